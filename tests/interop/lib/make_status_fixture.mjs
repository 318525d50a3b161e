#!/usr/bin/env node
// Self-test helper: a BitstringStatusList fixture made with the Digital Bazaar
// stack alone (@digitalbazaar/vc-bitstring-status-list createList /
// createCredential), to exercise dcc_verify.mjs's status check without carnet.
//
// A fresh Ed25519 did:key signs (eddsa-rdfc-2022):
//   OUT/status-list.json   BitstringStatusListCredential (revocation, 131072
//                          entries) at LIST_URL, bit REVOKED set
//   OUT/revoked.json       the credential, credentialStatus -> bit REVOKED
//   OUT/clear.json         the credential, credentialStatus -> bit REVOKED + 1
//   OUT/bad-list.json      the status list with encodedList replaced by an
//                          empty list (its proof no longer matches)
// The issuer of all of them is the did:key DID (the key's controller).
// Prints {"list": LIST_URL, "issuer": DID}.
import fs from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {load} from './deps.mjs';
import {createDocumentLoader} from './dcc.mjs';

const {values: o} = parseArgs({options: {
  unsigned: {type: 'string'}, out: {type: 'string'},
  'list-url': {type: 'string', default: 'https://status.example/lists/revocation/1'},
  revoked: {type: 'string', default: '4242'},
}});
if(!o.unsigned || !o.out) {
  process.stderr.write('usage: make_status_fixture.mjs --unsigned FILE --out DIR ' +
    '[--list-url URL] [--revoked INDEX]\n');
  process.exit(2);
}

const vc = await load('@digitalbazaar/vc');
const bsl = await load('@digitalbazaar/vc-bitstring-status-list');
const {DataIntegrityProof} = await load('@digitalbazaar/data-integrity');
const {cryptosuite} = await load('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
const jsigs = (await load('jsonld-signatures')).default;
const Ed25519Multikey = await load('@digitalbazaar/ed25519-multikey');

const key = await Ed25519Multikey.generate();
key.controller = `did:key:${key.publicKeyMultibase}`;
key.id = `${key.controller}#${key.publicKeyMultibase}`;
const signer = key.signer();
signer.id = key.id;
const {documentLoader} = await createDocumentLoader();
const sign = credential => vc.issue({
  credential, documentLoader,
  suite: new DataIntegrityProof({signer, cryptosuite}),
  purpose: new jsigs.purposes.AssertionProofPurpose(),
});

const revokedIndex = Number.parseInt(o.revoked, 10);
const list = await bsl.createList({length: 131072});
list.setStatus(revokedIndex, true);
const unsignedList = await bsl.createCredential({
  id: o['list-url'], list, statusPurpose: 'revocation',
});
unsignedList.issuer = key.controller;
unsignedList.validFrom = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const signedList = await sign(unsignedList);

const base = JSON.parse(fs.readFileSync(o.unsigned, 'utf8'));
delete base.proof;
base.issuer = base.issuer !== null && typeof base.issuer === 'object' ?
  {...base.issuer, id: key.controller} : key.controller;
const withStatus = index => ({
  ...structuredClone(base),
  credentialStatus: {
    id: `${o['list-url']}#${index}`,
    type: 'BitstringStatusListEntry',
    statusPurpose: 'revocation',
    statusListIndex: String(index),
    statusListCredential: o['list-url'],
  },
});

const bad = structuredClone(signedList);
bad.credentialSubject.encodedList =
  await (await bsl.createList({length: 131072})).encode();

fs.mkdirSync(o.out, {recursive: true});
const write = (name, doc) =>
  fs.writeFileSync(path.join(o.out, name), JSON.stringify(doc, null, 2));
write('status-list.json', signedList);
write('bad-list.json', bad);
write('revoked.json', await sign(withStatus(revokedIndex)));
write('clear.json', await sign(withStatus(revokedIndex + 1)));
process.stdout.write(JSON.stringify({list: o['list-url'], issuer: key.controller}) + '\n');
