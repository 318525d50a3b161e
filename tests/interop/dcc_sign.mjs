#!/usr/bin/env node
// Signs an unsigned Open Badges 3.0 credential with the Digital Bazaar / DCC
// stack (DataIntegrityProof, eddsa-rdfc-2022) and a fresh Ed25519 key whose
// verification method is did:key:X#X. Used by carnet's tests to check that
// carnet's verifier accepts a credential it did not sign.
//
// By default issuer.id is set to the did:key DID (the key's controller), so the
// issuer/controller rule holds; --keep-issuer leaves the issuer as it is (for
// the negative case: a key whose controller is not the issuer).
//
// Writes the signed credential to --out FILE (or stdout) and prints, with
// --out, one JSON line: {"ok":true,"issuer":...,"controller":...,
// "verificationMethod":...,"issuer_matches_controller":...,"self_verified":...}.
// self_verified: the same stack verifies the result (with the issuer ==
// controller check when issuer_matches_controller; a credentialStatus is kept
// but not checked). Exit 0 on success, 1 on failure, 2 usage error.
import fs from 'node:fs';
import {load} from './lib/deps.mjs';
import {createDocumentLoader, installNetworkGuard, readJson} from './lib/dcc.mjs';
import {parseArgs} from 'node:util';

const USAGE = `\
usage: node dcc_sign.mjs --unsigned FILE [--out FILE] [--keep-issuer]

  --unsigned FILE   the credential to sign (an existing "proof" is removed)
  --out FILE        write the signed credential here (default: stdout)
  --keep-issuer     do not set issuer.id to the did:key DID`;

let o;
try {
  ({values: o} = parseArgs({options: {
    unsigned: {type: 'string'}, out: {type: 'string'},
    'keep-issuer': {type: 'boolean', default: false},
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
if(!o.unsigned) {
  process.stderr.write(`--unsigned is required\n\n${USAGE}\n`);
  process.exit(2);
}

const info = {ok: false};
try {
  // signing needs no network at all
  installNetworkGuard([]);
  const vc = await load('@digitalbazaar/vc');
  const {DataIntegrityProof} = await load('@digitalbazaar/data-integrity');
  const {cryptosuite} = await load('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
  const jsigs = (await load('jsonld-signatures')).default;
  const Ed25519Multikey = await load('@digitalbazaar/ed25519-multikey');
  const {documentLoader} = await createDocumentLoader();

  const key = await Ed25519Multikey.generate();
  key.controller = `did:key:${key.publicKeyMultibase}`;
  key.id = `${key.controller}#${key.publicKeyMultibase}`;
  const signer = key.signer();
  signer.id = key.id;

  const credential = readJson(o.unsigned);
  delete credential.proof;
  if(!o['keep-issuer']) {
    credential.issuer = credential.issuer !== null &&
      typeof credential.issuer === 'object' ?
      {...credential.issuer, id: key.controller} : key.controller;
  }
  const issuer = typeof credential.issuer === 'object' ?
    credential.issuer?.id : credential.issuer;

  const signed = await vc.issue({
    credential,
    suite: new DataIntegrityProof({signer, cryptosuite}),
    documentLoader,
    purpose: new jsigs.purposes.AssertionProofPurpose(),
  });

  info.issuer = issuer ?? null;
  info.controller = key.controller;
  info.verificationMethod = key.id;
  info.issuer_matches_controller = issuer === key.controller;
  // the same stack must verify what it signed; CredentialIssuancePurpose also
  // checks issuer.id == controller
  const purpose = info.issuer_matches_controller ?
    new vc.CredentialIssuancePurpose() :
    new jsigs.purposes.AssertionProofPurpose();
  const checkOptions = {
    credential: structuredClone(signed),
    suite: new DataIntegrityProof({cryptosuite}), documentLoader, purpose,
  };
  if(signed.credentialStatus) {
    // the status list (if any) is someone else's and needs the network: the
    // self-check is about the signature only
    checkOptions.checkStatus = async () => ({verified: true});
    info.status = 'kept, not checked by the self-check';
  }
  const check = await vc.verifyCredential(checkOptions);
  info.self_verified = check.verified === true;
  if(!info.self_verified) {
    throw new Error('the signed credential does not verify with the same stack: ' +
      (check.error?.message ?? JSON.stringify(check.error)));
  }
  const text = JSON.stringify(signed, null, 2) + '\n';
  if(o.out) {
    fs.writeFileSync(o.out, text);
  }
  info.ok = true;
  process.stdout.write(o.out ? JSON.stringify(info) + '\n' : text);
} catch(e) {
  info.ok = false;
  info.error = e.message || String(e);
  process.stdout.write(JSON.stringify(info) + '\n');
}
process.exitCode = info.ok ? 0 : 1;
