#!/usr/bin/env node
// Self-test helper: signs an unsigned credential with a fresh Ed25519 key
// (Digital Bazaar stack) and lays the key out the way carnet publishes it:
//
//   issuer.id          = BASE/issuers/SLUG
//   verificationMethod = did:web:HOST%3APORT:issuers:SLUG#key-1
//   DID document       = BASE/issuers/SLUG/did.json, with alsoKnownAs [issuer.id]
//                        and a Multikey VM whose controller is issuer.id
//
// Writes OUT/signed.json and OUT/www/issuers/SLUG/did.json (serve OUT/www at
// BASE). Used by selftest.sh to exercise dcc_verify.mjs's did:web path over
// http://127.0.0.1; carnet's own tests use carnet's published documents.
import fs from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {load} from './deps.mjs';
import {createDocumentLoader} from './dcc.mjs';

const {values: o} = parseArgs({options: {
  unsigned: {type: 'string'}, base: {type: 'string'},
  slug: {type: 'string', default: 'selftest'}, out: {type: 'string'},
}});
if(!o.unsigned || !o.base || !o.out) {
  process.stderr.write('usage: make_didweb_fixture.mjs --unsigned FILE ' +
    '--base http://127.0.0.1:PORT --out DIR [--slug SLUG]\n');
  process.exit(2);
}

const base = o.base.replace(/\/+$/, '');
const u = new URL(base);
const issuerId = `${base}/issuers/${o.slug}`;
const did = `did:web:${encodeURIComponent(u.host)}` +
  `${u.pathname.replace(/\/+$/, '').split('/').filter(Boolean).map(s => ':' + s).join('')}` +
  `:issuers:${o.slug}`;
const vmId = `${did}#key-1`;

const vc = await load('@digitalbazaar/vc');
const {DataIntegrityProof} = await load('@digitalbazaar/data-integrity');
const {cryptosuite} = await load('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
const jsigs = (await load('jsonld-signatures')).default;
const Ed25519Multikey = await load('@digitalbazaar/ed25519-multikey');

const key = await Ed25519Multikey.generate({id: vmId, controller: issuerId});
const didDoc = {
  '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
  id: did,
  alsoKnownAs: [issuerId],
  verificationMethod: [{
    id: vmId, type: 'Multikey', controller: issuerId,
    publicKeyMultibase: key.publicKeyMultibase,
  }],
  assertionMethod: [vmId],
};

const credential = JSON.parse(fs.readFileSync(o.unsigned, 'utf8'));
delete credential.proof;
credential.issuer = typeof credential.issuer === 'object' ?
  {...credential.issuer, id: issuerId} : issuerId;

const {documentLoader} = await createDocumentLoader();
const signed = await vc.issue({
  credential,
  suite: new DataIntegrityProof({signer: key.signer(), cryptosuite}),
  documentLoader,
  purpose: new jsigs.purposes.AssertionProofPurpose(),
});

const didDir = path.join(o.out, 'www', 'issuers', o.slug);
fs.mkdirSync(didDir, {recursive: true});
fs.writeFileSync(path.join(didDir, 'did.json'), JSON.stringify(didDoc, null, 2));
fs.writeFileSync(path.join(o.out, 'signed.json'), JSON.stringify(signed, null, 2));
process.stdout.write(JSON.stringify({issuer: issuerId, did, verificationMethod: vmId}) + '\n');
