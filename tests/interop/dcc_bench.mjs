#!/usr/bin/env node
// Benchmark of the Digital Bazaar / DCC JavaScript stack, as a baseline for
// carnet's own eddsa-rdfc-2022 signing and verifying.
//
//   --credential FILE      verify this signed credential N times (it must
//                          verify; same resolution options as dcc_verify.mjs)
//   --sign-unsigned FILE   sign this unsigned credential N times with a fresh
//                          Ed25519 key (did:key verification method)
//
// Prints one JSON line, e.g. {"verify_ms_per_op": 5.1, "sign_ms_per_op": 4.7,
// "iterations": 200}. Exit status 0 on success, 1 on failure, 2 usage error.
// Documents (contexts, DID documents) are loaded once and cached, so the
// figures measure JSON-LD processing, canonicalisation and Ed25519, not I/O.
import {performance} from 'node:perf_hooks';
import {load} from './lib/deps.mjs';
import {createVerifier, parseCli, readJson, RESOLUTION_USAGE, versions}
  from './lib/dcc.mjs';

const USAGE = `\
usage: node dcc_bench.mjs [--credential FILE] [--sign-unsigned FILE] [options]

  --credential FILE      signed credential to verify N times
  --sign-unsigned FILE   unsigned credential to sign N times (fresh did:key)
  --iterations N         timed operations per measurement (default 200)
  --warmup N             untimed operations first (default 20)
${RESOLUTION_USAGE}`;

const opts = parseCli({
  credential: {type: 'string'},
  'sign-unsigned': {type: 'string'},
  iterations: {type: 'string', default: '200'},
  warmup: {type: 'string', default: '20'},
}, USAGE);

const iterations = Number.parseInt(opts.iterations, 10);
const warmup = Number.parseInt(opts.warmup, 10);
if(!(iterations > 0) || !(warmup >= 0) ||
  (!opts.credential && !opts['sign-unsigned'])) {
  process.stderr.write(
    'need --credential and/or --sign-unsigned, --iterations > 0, --warmup >= 0' +
    `\n\n${USAGE}\n`);
  process.exit(2);
}

const round = x => Math.round(x * 1000) / 1000;

async function timeIt(n, fn) {
  const start = performance.now();
  for(let i = 0; i < n; ++i) {
    await fn(i);
  }
  return (performance.now() - start) / n;
}

const out = {iterations, warmup};
try {
  const {verify, documentLoader} = await createVerifier(opts);

  if(opts.credential) {
    const credential = readJson(opts.credential);
    const first = await verify(structuredClone(credential));
    if(!first.verified) {
      throw new Error(`the credential does not verify: ${first.error}`);
    }
    // with credentialStatus (and no --ignore-status) every verification also
    // verifies the status list credential's proof (the list is fetched once)
    out.verify_includes_status = Boolean(credential.credentialStatus) &&
      !opts['ignore-status'];
    let failures = 0;
    const once = async () => {
      const r = await verify(structuredClone(credential));
      if(!r.verified) {
        ++failures;
      }
    };
    await timeIt(warmup, once);
    out.verify_ms_per_op = round(await timeIt(iterations, once));
    if(failures) {
      throw new Error(`${failures} verifications failed during the run`);
    }
  }

  if(opts['sign-unsigned']) {
    const unsigned = readJson(opts['sign-unsigned']);
    delete unsigned.proof;
    const vc = await load('@digitalbazaar/vc');
    const {DataIntegrityProof} = await load('@digitalbazaar/data-integrity');
    const {cryptosuite} = await load('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
    const jsigs = (await load('jsonld-signatures')).default;
    const Ed25519Multikey = await load('@digitalbazaar/ed25519-multikey');
    const key = await Ed25519Multikey.generate();
    key.controller = `did:key:${key.publicKeyMultibase}`;
    key.id = `${key.controller}#${key.publicKeyMultibase}`;
    const signer = key.signer();
    signer.id = key.id;
    // the issuer is not this did:key, so do not enforce issuer == controller
    const purpose = new jsigs.purposes.AssertionProofPurpose();
    let signed;
    const once = async () => {
      const suite = new DataIntegrityProof({signer, cryptosuite});
      signed = await vc.issue({
        credential: structuredClone(unsigned), suite, documentLoader, purpose,
      });
    };
    await timeIt(warmup, once);
    out.sign_ms_per_op = round(await timeIt(iterations, once));
    // the last signature must verify with the same stack
    const suite = new DataIntegrityProof({cryptosuite});
    const checkOptions = {
      credential: signed, suite, documentLoader,
      purpose: new jsigs.purposes.AssertionProofPurpose(),
    };
    if(signed.credentialStatus) {
      // the status list belongs to the credential's real issuer: only the signature
      // made here is checked
      checkOptions.checkStatus = async () => ({verified: true});
    }
    const check = await vc.verifyCredential(checkOptions);
    out.signed_verifies = check.verified === true;
    if(!out.signed_verifies) {
      throw new Error(`a credential signed here does not verify: ${check.error}`);
    }
  }
  out.versions = versions();
  out.ok = true;
} catch(e) {
  out.ok = false;
  out.error = e.message || String(e);
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exitCode = out.ok ? 0 : 1;
