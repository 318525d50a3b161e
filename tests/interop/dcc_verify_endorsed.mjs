#!/usr/bin/env node
// Verifies an Open Badges 3.0 credential AND every EndorsementCredential it
// embeds (`endorsement[]`), each as a credential of its own, with the Digital
// Bazaar / Digital Credentials Consortium JavaScript stack (the same verifier
// as dcc_verify.mjs: lib/dcc.mjs). An endorsement without its own @context is
// given the credential's. A standalone EndorsementCredential (no endorsement[])
// is simply verified.
//
// Prints one JSON line:
//   {"verified": bool, "credential_verified": bool, "error": ...,
//    "endorsements": [{"index": i, "id": ..., "verified": bool, "error": ...,
//                      "issuer": ..., "controller": ..., "issuer_matches_controller": bool}]}
// `verified` is true only if the credential and every endorsement are.
// Exit status: 0 verified, 1 not verified, 2 usage error.
import {createVerifier, parseCli, readJson, RESOLUTION_USAGE, versions}
  from './lib/dcc.mjs';

const USAGE = `\
usage: node dcc_verify_endorsed.mjs --credential FILE [options]

  --credential FILE      the signed credential (JSON with an embedded proof)
${RESOLUTION_USAGE}
  --versions             also report the third-party package versions`;

const opts = parseCli({
  credential: {type: 'string'},
  versions: {type: 'boolean', default: false},
}, USAGE);

if(!opts.credential) {
  process.stderr.write(`--credential is required\n\n${USAGE}\n`);
  process.exit(2);
}

const asArray = v => v === undefined || v === null ? [] : (Array.isArray(v) ? v : [v]);

let out;
try {
  const credential = readJson(opts.credential);
  const {verify} = await createVerifier(opts);
  out = await verify(credential);
  out.credential_verified = out.verified;
  out.endorsements = [];
  for(const [index, e] of asArray(credential.endorsement).entries()) {
    if(e === null || typeof e !== 'object') {
      out.endorsements.push({index, verified: false, error: 'not an object'});
      continue;
    }
    const doc = e['@context'] ? e : {'@context': credential['@context'], ...e};
    const r = await verify(doc);
    out.endorsements.push({index, id: e.id ?? null, ...r});
  }
  out.verified = out.credential_verified &&
    out.endorsements.every(r => r.verified === true);
  if(!out.verified && !out.error) {
    const bad = out.endorsements.find(r => !r.verified);
    out.error = bad ? `endorsement[${bad.index}]: ${bad.error}` : 'not verified';
  }
} catch(e) {
  out = {verified: false, error: e.message || String(e)};
}
if(opts.versions) {
  out.versions = versions();
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exitCode = out.verified ? 0 : 1;
