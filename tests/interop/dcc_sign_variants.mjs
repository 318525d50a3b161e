#!/usr/bin/env node
// Signs, with the Digital Bazaar / DCC stack (DataIntegrityProof,
// eddsa-rdfc-2022, a fresh Ed25519 did:key per case, issuer = the did:key DID
// as dcc_sign.mjs does), one credential per Open Badges 3.0 data-model
// deviation, all made from one unsigned OB 3.0 template:
//
//   issuer-image-url      issuer.image is a URL string, not an Image object
//   achievement-type      achievementType "Workshop": not in the OB 3.0
//                         vocabulary and without the "ext:" prefix
//   subject-name-only     credentialSubject is {name} alone (no id, identifier,
//                         achievement, type)
//   issuer-string         issuer is the did:key DID as a plain string
//   plain-vc              no Open Badges context: a plain VerifiableCredential
//
// and, for each case, two more credentials:
//
//   CASE.tampered.json    CASE.json with one signed field changed after signing
//   CASE.expired.json     signed by the DCC stack with validFrom 2019-01-01 and
//                         validUntil 2020-01-01 (in the past)
//
// The DCC verifier (lib/dcc.mjs createVerifier, as dcc_verify.mjs runs it:
// CredentialIssuancePurpose, so issuer == the key's controller) checks every
// file: CASE.json must verify, the tampered and expired copies must not; what
// it says is reported. If the stack refuses to sign a case's first form (JSON-LD
// safe mode refuses a term the contexts do not define), the next form of that
// case is tried and the refusal is reported in `refused`.
//
// Writes DIR/CASE.json, DIR/CASE.tampered.json, DIR/CASE.expired.json and prints
// one JSON line: {"ok":…,"cases":[{"case":…,"deviation":…,"form":…,
// "controller":…,"self_verified":…,"tampered":{"field":…,"dcc_verified":…,
// "dcc_error":…},"expired":{"dcc_verified":…,"dcc_error":…}}],"refused":[…],
// "versions":{…}}. Exit 0 when ok (every case signed, verified, its tampered
// and expired copies refused), 1 otherwise, 2 on a usage error. No network.
import fs from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {load} from './lib/deps.mjs';
import {createVerifier, readJson, versions} from './lib/dcc.mjs';

const USAGE = `\
usage: node dcc_sign_variants.mjs --unsigned FILE --out-dir DIR

  --unsigned FILE   an unsigned OB 3.0 OpenBadgeCredential (issuer an object,
                    credentialSubject with an achievement); any proof is removed
  --out-dir DIR     where CASE.json, CASE.tampered.json, CASE.expired.json go`;

let o;
try {
  ({values: o} = parseArgs({options: {
    unsigned: {type: 'string'}, 'out-dir': {type: 'string'},
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
if(!o.unsigned || !o['out-dir']) {
  process.stderr.write(`--unsigned and --out-dir are required\n\n${USAGE}\n`);
  process.exit(2);
}

const VC_V2 = 'https://www.w3.org/ns/credentials/v2';
const EXPIRED = {validFrom: '2019-01-01T00:00:00Z', validUntil: '2020-01-01T00:00:00Z'};

// Each case: what it deviates from, then its forms, first preferred. A form
// takes the template (issuer already the did:key DID) and returns the
// credential to sign, plus the signed field the tampered copy changes.
const CASES = [
  {
    case: 'issuer-image-url',
    deviation: 'issuer.image is a URL string instead of an Image object',
    forms: [{form: 'issuer.image = "https://…/logo.png"', make: t => {
      t.issuer = {...t.issuer, image: 'https://ime.example.org/logo.png'};
      return t;
    }}],
    tamper: {field: 'name', change: c => {
      c.name = 'Autre badge';
    }},
  },
  {
    case: 'achievement-type',
    deviation: 'achievementType "Workshop" is not in the OB 3.0 list and has no ext: prefix',
    forms: [{form: 'credentialSubject.achievement.achievementType = "Workshop"', make: t => {
      t.credentialSubject.achievement.achievementType = 'Workshop';
      return t;
    }}],
    tamper: {field: 'credentialSubject.achievement.name', change: c => {
      c.credentialSubject.achievement.name = 'Autre réussite';
    }},
  },
  {
    case: 'subject-name-only',
    deviation: 'credentialSubject has only a name: no id, identifier, achievement',
    forms: [
      // `name` is a protected top-level term of the VC 2.0 context: safe mode
      // accepts it in an untyped subject
      {form: 'credentialSubject = {name}', make: t => {
        t.credentialSubject = {name: 'Camille Interop'};
        return t;
      }},
      {form: 'credentialSubject = {type: AchievementSubject, name}', make: t => {
        t.credentialSubject = {type: ['AchievementSubject'], name: 'Camille Interop'};
        return t;
      }},
    ],
    tamper: {field: 'credentialSubject.name', change: c => {
      c.credentialSubject.name = 'Dominique Autre';
    }},
  },
  {
    case: 'issuer-string',
    deviation: 'issuer is the did:key DID as a plain string, not a Profile',
    forms: [{form: 'issuer = "did:key:…"', make: t => {
      t.issuer = t.issuer.id;
      return t;
    }}],
    tamper: {field: 'validFrom', change: c => {
      // a day earlier: still in the past, only the proof can notice
      c.validFrom = new Date(Date.parse(c.validFrom) - 86400000)
        .toISOString().replace(/\.\d+Z$/, 'Z');
    }},
  },
  {
    case: 'plain-vc',
    deviation: 'no Open Badges context: a plain VerifiableCredential',
    forms: [{form: 'VC 2.0 context only, type [VerifiableCredential]', make: t => ({
      '@context': [VC_V2],
      id: t.id,
      type: ['VerifiableCredential'],
      name: 'Attestation de participation',
      issuer: t.issuer.id,
      validFrom: t.validFrom,
      credentialSubject: {id: 'urn:uuid:5f1c2a9e-8f3b-4c1d-9a7e-2b6d4e0c1f37',
        name: 'Camille Interop'},
    })}],
    tamper: {field: 'credentialSubject.name', change: c => {
      c.credentialSubject.name = 'Dominique Autre';
    }},
  },
];

const out = {ok: false, cases: [], refused: []};
try {
  const vc = await load('@digitalbazaar/vc');
  const {DataIntegrityProof} = await load('@digitalbazaar/data-integrity');
  const {cryptosuite} = await load('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
  const jsigs = (await load('jsonld-signatures')).default;
  const Ed25519Multikey = await load('@digitalbazaar/ed25519-multikey');
  // the verifier dcc_verify.mjs runs, with no --allow-fetch: the network guard
  // blocks everything, did:key resolves offline
  const {verify, documentLoader} = await createVerifier({});

  const template = readJson(o.unsigned);
  delete template.proof;
  if(template.issuer === null || typeof template.issuer !== 'object' ||
    !template.credentialSubject?.achievement) {
    throw new Error('--unsigned must be an OB 3.0 credential with an issuer object ' +
      'and credentialSubject.achievement');
  }
  fs.mkdirSync(o['out-dir'], {recursive: true});
  const write = (name, doc) => fs.writeFileSync(path.join(o['out-dir'], name),
    JSON.stringify(doc, null, 2) + '\n');

  for(const spec of CASES) {
    const key = await Ed25519Multikey.generate();
    key.controller = `did:key:${key.publicKeyMultibase}`;
    key.id = `${key.controller}#${key.publicKeyMultibase}`;
    const signer = key.signer();
    signer.id = key.id;
    const sign = credential => vc.issue({
      credential: structuredClone(credential), documentLoader,
      suite: new DataIntegrityProof({signer, cryptosuite}),
      purpose: new jsigs.purposes.AssertionProofPurpose(),
    });
    const base = structuredClone(template);
    base.issuer = {...base.issuer, id: key.controller};

    let signed;
    let unsigned;
    let form;
    for(const f of spec.forms) {
      const candidate = f.make(structuredClone(base));
      try {
        signed = await sign(candidate);
        unsigned = candidate;
        form = f.form;
        break;
      } catch(e) {
        out.refused.push({case: spec.case, form: f.form, error: e.message || String(e)});
      }
    }
    const result = {case: spec.case, deviation: spec.deviation, form: form ?? null,
      controller: key.controller, signed: signed !== undefined};
    out.cases.push(result);
    if(!signed) {
      continue;
    }
    const check = await verify(structuredClone(signed));
    result.self_verified = check.verified;
    result.issuer_matches_controller = check.issuer_matches_controller ?? false;
    result.dcc_error = check.error;
    write(`${spec.case}.json`, signed);

    const tampered = structuredClone(signed);
    spec.tamper.change(tampered);
    const t = await verify(structuredClone(tampered));
    result.tampered = {field: spec.tamper.field, dcc_verified: t.verified, dcc_error: t.error};
    write(`${spec.case}.tampered.json`, tampered);

    const old = {...structuredClone(unsigned), ...EXPIRED};
    if('awardedDate' in old) {
      old.awardedDate = EXPIRED.validFrom;
    }
    const expired = await sign(old);
    const x = await verify(structuredClone(expired));
    result.expired = {validUntil: EXPIRED.validUntil, dcc_verified: x.verified,
      dcc_error: x.error};
    write(`${spec.case}.expired.json`, expired);
  }
  out.ok = out.cases.every(c => c.signed && c.self_verified &&
    c.issuer_matches_controller && c.tampered.dcc_verified === false &&
    c.expired.dcc_verified === false);
} catch(e) {
  out.ok = false;
  out.error = e.message || String(e);
}
out.versions = versions();
process.stdout.write(JSON.stringify(out) + '\n');
process.exitCode = out.ok ? 0 : 1;
