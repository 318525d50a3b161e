#!/usr/bin/env node
// StatusList2021 fixtures made with the Digital Bazaar / DCC stack alone, for
// carnet's verifier (tests/status_list_2021.rs): the older status list that the
// DCC tools (Learner Credential Wallet, VerifierPlus, status-service) still use,
// with the context https://w3id.org/vc/status-list/2021/v1.
//
// Lists are made by @digitalbazaar/vc-status-list (createList, setStatus,
// createCredential: a StatusList2021Credential, VC 1.1); everything is signed
// by @digitalbazaar/vc with DataIntegrityProof + eddsa-rdfc-2022 and a fresh
// Ed25519 did:key, whose DID is the issuer (as dcc_sign.mjs does). The OB 3.0
// credentials have the contexts DCC issues them with: VC 1.1, OB 3.0, then the
// status list context (and data-integrity/v2, added by the suite).
//
// Writes into --out DIR (each list served by the test at --list-base/NAME):
//   lists/revocation.json    revocation list, bits --revoked and a few others set
//   lists/suspension.json    suspension list, bit --suspended set
//   lists/tampered.json      lists/revocation.json with encodedList replaced by a
//                            list with no bit set (the proof no longer matches)
//   lists/other-issuer.json  an empty revocation list signed by another did:key
//                            (issuer = that DID)
//   credentials/NAME.json    OB 3.0 credentials, one per case below
//   context.json             the package's https://w3id.org/vc/status-list/2021/v1
//                            context (@digitalbazaar/vc-status-list-context)
// and prints one JSON line: {"ok":true,"issuer":DID,"other_issuer":DID,
// "context_url":URL,"cases":{NAME:{"list":URL,"index":N,"purpose":P,
// "dcc":{"verified":bool,"status_set":bool|null,"error":string|null}}},
// "versions":{...}}. `dcc` is what the same stack's own check says: vc
// verifyCredential with @digitalbazaar/vc-status-list checkStatus (the list
// loaded from the files above, its proof verified, issuers compared).
// Exit 0 on success, 1 on failure, 2 usage error.
import fs from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {load, packageVersion} from './lib/deps.mjs';
import {createDocumentLoader, installNetworkGuard, readJson} from './lib/dcc.mjs';

const USAGE = `\
usage: node dcc_status_list_2021.mjs --unsigned FILE --out DIR --list-base URL
                                     [--revoked N] [--suspended N]

  --unsigned FILE   an OB 3.0 credential (VC 1.1 or 2.0 form): its @context is
                    replaced, its issuer id set to the did:key DID, any proof or
                    credentialStatus removed
  --out DIR         where to write the lists and credentials
  --list-base URL   the lists are at URL/revocation, URL/suspension, ...
  --revoked N       the bit set in the revocation list (default 4242)
  --suspended N     the bit set in the suspension list (default 77)`;

let o;
try {
  ({values: o} = parseArgs({options: {
    unsigned: {type: 'string'}, out: {type: 'string'},
    'list-base': {type: 'string'},
    revoked: {type: 'string', default: '4242'},
    suspended: {type: 'string', default: '77'},
    help: {type: 'boolean', short: 'h', default: false},
  }, strict: true, allowPositionals: false}));
} catch(e) {
  process.stderr.write(`${e.message}\n\n${USAGE}\n`);
  process.exit(2);
}
if(o.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const revoked = Number.parseInt(o.revoked, 10);
const suspended = Number.parseInt(o.suspended, 10);
if(!o.unsigned || !o.out || !o['list-base'] || !(revoked >= 0) ||
  !(suspended >= 0)) {
  process.stderr.write(`--unsigned, --out and --list-base are required\n\n${USAGE}\n`);
  process.exit(2);
}

// The spec's minimum: 16KB uncompressed.
const LENGTH = 131072;
const VC_V1 = 'https://www.w3.org/2018/credentials/v1';
const OB_V3 = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json';

const info = {ok: false};
try {
  // signing and the self-check need no network at all
  installNetworkGuard([]);
  const vc = await load('@digitalbazaar/vc');
  const sl = await load('@digitalbazaar/vc-status-list');
  const slContext = (await load('@digitalbazaar/vc-status-list-context')).default;
  const {DataIntegrityProof} = await load('@digitalbazaar/data-integrity');
  const {cryptosuite} = await load('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
  const jsigs = (await load('jsonld-signatures')).default;
  const Ed25519Multikey = await load('@digitalbazaar/ed25519-multikey');
  const SL_V1 = slContext.CONTEXT_URL_V1;

  const newKey = async () => {
    const key = await Ed25519Multikey.generate();
    key.controller = `did:key:${key.publicKeyMultibase}`;
    key.id = `${key.controller}#${key.publicKeyMultibase}`;
    const signer = key.signer();
    signer.id = key.id;
    return {did: key.controller, signer};
  };
  const issuer = await newKey();
  const other = await newKey();

  // The loader of the signing side: pinned contexts only.
  const {documentLoader: offline} = await createDocumentLoader();
  const sign = (credential, key) => vc.issue({
    credential, documentLoader: offline,
    suite: new DataIntegrityProof({signer: key.signer, cryptosuite}),
    purpose: new jsigs.purposes.AssertionProofPurpose(),
  });

  const base = o['list-base'].replace(/\/+$/, '');
  const listUrl = name => `${base}/${name}`;
  const makeList = async (name, purpose, set, key) => {
    const list = await sl.createList({length: LENGTH});
    for(const index of set) {
      list.setStatus(index, true);
    }
    const credential = await sl.createCredential({
      id: listUrl(name), list, statusPurpose: purpose,
    });
    credential.issuer = key.did;
    return sign(credential, key);
  };
  const lists = {
    revocation: await makeList('revocation', 'revocation',
      [0, revoked, revoked + 9, LENGTH - 1], issuer),
    suspension: await makeList('suspension', 'suspension', [suspended], issuer),
    'other-issuer': await makeList('other-issuer', 'revocation', [], other),
  };
  // the signed revocation list with its revoked bit cleared: a tampered copy
  const tampered = structuredClone(lists.revocation);
  tampered.id = listUrl('tampered');
  tampered.credentialSubject.id = `${tampered.id}#list`;
  tampered.credentialSubject.encodedList =
    await (await sl.createList({length: LENGTH})).encode();
  lists.tampered = tampered;

  const unsigned = readJson(o.unsigned);
  delete unsigned.proof;
  delete unsigned.credentialStatus;
  unsigned['@context'] = [VC_V1, OB_V3, SL_V1];
  if(!unsigned.issuanceDate) {
    unsigned.issuanceDate = unsigned.validFrom ??
      new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  }
  delete unsigned.validFrom;
  if(unsigned.validUntil) {
    unsigned.expirationDate = unsigned.validUntil;
    delete unsigned.validUntil;
  }
  unsigned.issuer = unsigned.issuer !== null &&
    typeof unsigned.issuer === 'object' ?
    {...unsigned.issuer, id: issuer.did} : issuer.did;

  // name -> [list, purpose, index, index as written]
  const cases = {
    'revocation-clear': ['revocation', 'revocation', revoked + 1],
    // the DCC status-service writes statusListIndex as a number
    'revocation-clear-number': ['revocation', 'revocation', revoked + 1, 'number'],
    revoked: ['revocation', 'revocation', revoked],
    'suspension-clear': ['suspension', 'suspension', suspended + 1],
    suspended: ['suspension', 'suspension', suspended],
    'tampered-list': ['tampered', 'revocation', revoked],
    'other-issuer': ['other-issuer', 'revocation', revoked + 1],
  };

  // The same stack's own status check, with the lists answered from memory.
  const docs = new Map(Object.entries(lists).map(([n, l]) => [listUrl(n), l]));
  const {documentLoader} = await createDocumentLoader({docs});
  const dccCheck = async credential => {
    let statusSet = null;
    const result = await vc.verifyCredential({
      credential: structuredClone(credential), documentLoader,
      suite: new DataIntegrityProof({cryptosuite}),
      purpose: new vc.CredentialIssuancePurpose(),
      checkStatus: async opts => {
        const r = await sl.checkStatus({
          ...opts, suite: new DataIntegrityProof({cryptosuite}),
          verifyStatusListCredential: true, verifyMatchingIssuers: true,
        });
        // vc-status-list: `verified` false when a bit is set (or on error)
        if(!r.error) {
          statusSet = !r.verified;
        }
        return r;
      },
    });
    const error = result.error ?? result.statusResult?.error ??
      result.results?.find(r => r.error)?.error;
    return {
      verified: result.verified === true, status_set: statusSet,
      error: error ? (error.message || String(error)) : null,
    };
  };

  const out = path.resolve(o.out);
  fs.mkdirSync(path.join(out, 'lists'), {recursive: true});
  fs.mkdirSync(path.join(out, 'credentials'), {recursive: true});
  const write = (rel, doc) =>
    fs.writeFileSync(path.join(out, rel), JSON.stringify(doc, null, 2) + '\n');
  for(const [name, list] of Object.entries(lists)) {
    write(`lists/${name}.json`, list);
  }
  write('context.json', slContext.CONTEXT_V1);

  info.cases = {};
  for(const [name, [list, purpose, index, form]] of Object.entries(cases)) {
    const credential = structuredClone(unsigned);
    credential.id = `urn:uuid:${crypto.randomUUID()}`;
    credential.credentialStatus = {
      id: `${listUrl(list)}#${index}`,
      type: 'StatusList2021Entry',
      statusPurpose: purpose,
      statusListIndex: form === 'number' ? index : String(index),
      statusListCredential: listUrl(list),
    };
    const signed = await sign(credential, issuer);
    write(`credentials/${name}.json`, signed);
    info.cases[name] = {list: listUrl(list), index, purpose,
      dcc: await dccCheck(signed)};
  }
  info.issuer = issuer.did;
  info.other_issuer = other.did;
  info.context_url = SL_V1;
  info.versions = Object.fromEntries(['@digitalbazaar/vc',
    '@digitalbazaar/vc-status-list', '@digitalbazaar/vc-status-list-context',
    '@digitalbazaar/bitstring', '@digitalbazaar/data-integrity',
    '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'].map(n => [n, packageVersion(n)]));
  info.ok = true;
} catch(e) {
  info.ok = false;
  info.error = e.message || String(e);
}
process.stdout.write(JSON.stringify(info) + '\n');
process.exitCode = info.ok ? 0 : 1;
