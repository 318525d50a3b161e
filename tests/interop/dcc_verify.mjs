#!/usr/bin/env node
// Verifies an Open Badges 3.0 credential secured with an embedded
// DataIntegrityProof (eddsa-rdfc-2022) using the Digital Bazaar / Digital
// Credentials Consortium JavaScript stack, fully offline except for the URL
// prefixes explicitly allowed.
//
// Prints one JSON line: {"verified": true|false, "error": "...", ...}.
// Exit status: 0 verified, 1 not verified, 2 usage error.
import {createVerifier, parseCli, readJson, RESOLUTION_USAGE, versions}
  from './lib/dcc.mjs';

const USAGE = `\
usage: node dcc_verify.mjs --credential FILE [options]

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

let out;
try {
  const credential = readJson(opts.credential);
  const {verify} = await createVerifier(opts);
  out = await verify(credential);
} catch(e) {
  out = {verified: false, error: e.message || String(e)};
}
if(opts.versions) {
  out.versions = versions();
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exitCode = out.verified ? 0 : 1;
