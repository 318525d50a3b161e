#!/usr/bin/env bash
# Scale benchmark (issue #13 §8): 1,000,000 awards across 50 institutions in PostgreSQL, then the
# time of listing a page (keyset), finding an award by id, by idempotency key, a person's awards,
# and a bulk run of 10,000 rows (`tests/integration/scale.rs`, release build). Not part of the tests.
#
# Steps: build the release test binary; (re)create the schema `carnet_scale` in TEST_DATABASE_URL
# and let carnet migrate it (`scale::migrate`); fill it with plain SQL (generate_series: awards
# with their "issued" events, status lists, 0.5 % revoked, each award linked to its person
# (`awards.person_key`) and one `people` row per person, created at its first award; rows are
# not signed, listing and
# finding do not depend on the signature; credential_json is a real credential of
# securite-hygiene-au-travail, 4.7 KB (2.6 KB as stored, compressed by TOAST), with its ids, dates,
# recipient, status index and proof value replaced; assertion_json the real OB 2.0 assertion);
# VACUUM ANALYZE (autovacuum may be off, as on the test server); then the benchmark
# (`scale::reads`, `scale::writes_bulk`: 3 bulk runs, CARNET_SCALE_BULK_RUNS), which prints the
# figures.
#
# Idempotent: a schema already holding exactly the awards asked for, each linked to its person, and
# exactly their people is reused (the benchmark's bulk run removes what it added); a schema made
# before people were recorded (migration 0017) is refilled; SCALE_REFILL=1 drops and refills it
# anyway.
#   scripts/bench-scale.sh
# env: TEST_DATABASE_URL (postgres://postgres@127.0.0.1:5432/test), SCALE_SCHEMA (carnet_scale),
#      SCALE_AWARDS (1000000), SCALE_ISSUERS (50), SCALE_REFILL (unset),
#      SCALE_FILL_ONLY (unset: fill, then stop)
set -euo pipefail
cd "$(dirname "$0")/.."
base=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
schema=${SCALE_SCHEMA:-carnet_scale}
awards=${SCALE_AWARDS:-1000000}
issuers=${SCALE_ISSUERS:-50}
[[ $schema =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "SCALE_SCHEMA: a lowercase identifier" >&2; exit 2; }
(( awards % issuers == 0 )) || { echo "SCALE_AWARDS must be a multiple of SCALE_ISSUERS" >&2; exit 2; }
per_issuer=$((awards / issuers))
sep='?'; [[ $base == *\?* ]] && sep='&'
url="${base}${sep}options=-c%20search_path%3D${schema}"
export CARNET_SCALE_DATABASE_URL=$url CARNET_SCALE_AWARDS=$awards CARNET_SCALE_ISSUERS=$issuers
psql_() { psql -X -q -v ON_ERROR_STOP=1 "$base" "$@"; }
now() { date +%s.%N; }
secs() { printf '%.1f' "$(echo "$2 - $1" | bc)"; }

echo "== machine"
echo "$(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), \
$(awk '/MemTotal/ {printf "%.1f GiB RAM", $2 / 1048576}' /proc/meminfo), $(uname -sr)"
echo "PostgreSQL: $(psql_ -Atc 'SHOW server_version'), shared_buffers $(psql_ -Atc 'SHOW shared_buffers'), \
work_mem $(psql_ -Atc 'SHOW work_mem'), max_wal_size $(psql_ -Atc 'SHOW max_wal_size'), \
autovacuum $(psql_ -Atc 'SHOW autovacuum')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== building the release test binary (cargo test --release --test integration --no-run)"
# built once and run directly below: the schema is migrated and measured by the same binary
bin=$(cargo test --release --test integration --no-run --message-format=json | python3 -c '
import json, sys
found = [m["executable"] for m in map(json.loads, sys.stdin)
         if m.get("reason") == "compiler-artifact" and m.get("executable")
         and m["target"]["name"] == "integration"]
print(found[-1])')
echo "$bin"
run_tests() { # filter, extra args: as `cargo test --release --test integration FILTER -- --ignored`
  local filter=$1; shift
  "$bin" "$filter" --ignored "$@"
}

# 4 awards per person (see the fill): per_issuer / 4 people per issuer
people=$(( issuers * (per_issuer / 4) ))
filled=-1 unlinked=-1 known=-1
# people (migration 0017) present: awards.person_key is too
if [ -n "$(psql_ -Atc "SELECT to_regclass('${schema}.people')")" ]; then
  filled=$(psql_ -Atc "SELECT count(*) FROM ${schema}.awards")
  unlinked=$(psql_ -Atc "SELECT count(*) FROM ${schema}.awards WHERE person_key IS NULL")
  known=$(psql_ -Atc "SELECT count(*) FROM ${schema}.people")
fi
if [ -z "${SCALE_REFILL:-}" ] && [ "$filled" = "$awards" ] && [ "$unlinked" = 0 ] &&
   [ "$known" = "$people" ]; then
  echo "== schema $schema already holds $awards awards of $people people: fill skipped \
(SCALE_REFILL=1 to refill)"
else
  echo "== schema $schema: dropped and created, migrated by carnet (scale::migrate)"
  psql_ -c "SET client_min_messages = warning" -c "DROP SCHEMA IF EXISTS $schema CASCADE" \
    -c "CREATE SCHEMA $schema"
  run_tests scale::migrate --exact >/dev/null
  echo "== fill: $awards awards, $issuers issuers ($per_issuer each), $people people, plain SQL, \
in 2 sessions"
  fill_started=$(now)
  # one revocation list per issuer, holding its awards' slots 0 .. per_issuer - 1
  psql_ -c "INSERT INTO $schema.status_lists (issuer_slug, purpose, list_number, size, next_index,
              revision, created_at, updated_at)
            SELECT 'ime-' || lpad(i::text, 2, '0'), 'revocation', 0, greatest(131072, $per_issuer),
                   $per_issuer, 0, timestamptz '2023-01-02 08:00Z', timestamptz '2023-01-02 08:00Z'
            FROM generate_series(1, $issuers) AS i"
  fill_part() { # lo hi: the awards n in [lo, hi) and their events, in one transaction
    psql_ -v schema="$schema" -v lo="$1" -v hi="$2" -v issuers="$issuers" \
      -v per_issuer="$per_issuer" <<'SQL'
SET search_path = :"schema";
BEGIN;
-- Award n (0-based) belongs to issuer n % issuers (interleaved in time, as 50 institutions
-- issuing at once), is its k-th award (k = n / issuers, its status index), given to its person
-- k % (per_issuer / 4): 4 awards per person, spread over the three years. Awards come in
-- rounds of 8 per issuer, 10 h 30 apart (2023-01-02 .. 2025-12); every other round is a bulk
-- run (idempotency key, one created_at per round and issuer, as a bulk page has), the others
-- single awards a second apart. Ids are random-looking UUIDs (v4 layout) from md5(n). One award
-- in 200 of each issuer is revoked (30 days after it was given). Each person has one identity
-- hash (a sha256$ string per institution and person, as carnet's person_key), used both as the
-- awards' recipient_identity and as their person_key (their people rows come after the fill).
INSERT INTO awards (id, issuer_slug, badge_class_slug, badge_class_digest, recipient_identity,
    recipient_salt, recipient_name, credential_id, credential_json, credential_jwt, status_list,
    status_index, assertion_json, assertion_jws, valid_from, valid_until, issued_by,
    idempotency_key, created_at, revoked_at, revocation_reason, rsa_kid, person_key)
SELECT id, slug, 'securite-hygiene-au-travail',
    'd572fa62179089b4159b29d2be4eac22f7cf25b5817532c6c1472ea3e4f71dc5',
    identity, salt, rname, 'https://carnet.example.org/credentials/' || id,
    format($tpl${"@context":["https://www.w3.org/ns/credentials/v2","https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json","https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"],"id":"https://carnet.example.org/credentials/%1$s","type":["VerifiableCredential","OpenBadgeCredential"],"name":"Sécurité et hygiène au travail","issuer":{"id":"https://carnet.example.org/issuers/%2$s","type":["Profile"],"name":"%3$s","email":"contact@%2$s.example.org"},"validFrom":"%4$s","awardedDate":"%4$s","credentialSubject":{"type":["AchievementSubject"],"identifier":[{"type":"IdentityObject","identityHash":"%5$s","identityType":"emailAddress","hashed":true,"salt":"%6$s"},{"type":"IdentityObject","identityHash":"%9$s","identityType":"name","hashed":false}],"achievement":{"id":"https://carnet.example.org/badge-classes/securite-hygiene-au-travail","type":["Achievement"],"achievementType":"Badge","name":"Sécurité et hygiène au travail","description":"Avec ce badge, je rends visibles mes connaissances sur la sécurité et l'hygiène au travail.\n\nJe connais les principaux risques de mon métier et je sais me protéger.\nD'autres badges peuvent compléter celui-ci, par exemple les équipements de protection individuelle de chaque métier.\n\nToute personne sensibilisée à la sécurité et à l'hygiène au travail.","criteria":{"id":"https://carnet.example.org/badge-classes/securite-hygiene-au-travail#criteria","narrative":"- Quand je me sens prêt ou prête, je remplis le formulaire de demande du badge.\n- J'ai montré à mon référent (éducateur technique, tuteur de stage, chef de service), pendant les ateliers,\n  que je sais dire et appliquer les règles pour les principaux risques professionnels :\n  - l'activité physique : les équipements de protection individuelle (EPI), les pictogrammes,\n    les panneaux de sécurité, les bons gestes et postures, reconnaître un danger ;\n  - les machines ;\n  - les produits chimiques ;\n  - le feu ;\n  - l'électricité ;\n  - la circulation.\n- Je connais les principaux critères d'hygiène :\n  - l'hygiène du corps, par exemple le lavage des mains ;\n  - une tenue propre et adaptée à la météo et à l'activité.\n\nJe joins des documents qui viennent de ma pratique, sinon le badge n'est pas valable.\nPar exemple : le contenu des séances d'information ou de formation que j'ai suivies,\ndes photos de moi en tenue de travail, une fiche de sécurité que j'ai remplie."},"image":{"id":"https://carnet.example.org/badge-classes/securite-hygiene-au-travail/image.png","type":"Image","caption":"Une médaille bleue : une personne avec un casque de sécurité, et le nom du badge."},"inLanguage":"fr","version":"d572fa621790","tag":["sécurité","hygiène","prévention des risques","atelier"],"alignment":[{"type":["Alignment"],"targetName":"Prendre en compte les règlements","targetUrl":"https://carnet.example.org/badge-classes/securite-hygiene-au-travail#alignment-1","targetFramework":"RECTEC","targetCode":"2","targetDescription":"Pôle organisationnel : compétence transversale 2 du référentiel RECTEC (académie de Versailles)."},{"type":["Alignment"],"targetName":"Organiser son activité (Cercle 2)","targetUrl":"https://carnet.example.org/badge-classes/securite-hygiene-au-travail#alignment-2","targetFramework":"RECTEC","targetCode":"1","targetDescription":"Pôle organisationnel : mettre sa tenue de travail, préparer son matériel."}],"related":[{"id":"https://carnet.example.org/ob2/badge-classes/securite-hygiene-au-travail/d572fa621790","type":["Related","https://w3id.org/openbadges#BadgeClass"],"version":"Open Badges v2p0"}]}},"credentialSchema":[{"id":"https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json","type":"1EdTechJsonSchemaValidator2019"}],"evidence":[{"type":["Evidence"],"name":"Preuve apportée","id":"https://example.org/photo.jpg","narrative":"J'ai rempli la fiche de sécurité de l'atelier cuisine."}],"credentialStatus":{"id":"https://carnet.example.org/issuers/%2$s/status/revocation/0#%7$s","type":"BitstringStatusListEntry","statusPurpose":"revocation","statusListIndex":"%7$s","statusListCredential":"https://carnet.example.org/issuers/%2$s/status/revocation/0"},"proof":[{"type":"DataIntegrityProof","created":"%4$s","verificationMethod":"did:web:carnet.example.org:issuers:%2$s#ed25519-1","cryptosuite":"eddsa-rdfc-2022","proofPurpose":"assertionMethod","proofValue":"%8$s"}]}$tpl$, id, slug, 'IME ' || slug, ts, identity, salt, k, proof, rname),
    '', 0, k,
    format($tpl${"@context":"https://w3id.org/openbadges/v2","type":"Assertion","id":"https://carnet.example.org/ob2/assertions/%1$s","recipient":{"type":"email","hashed":true,"salt":"%2$s","identity":"%3$s"},"badge":"https://carnet.example.org/ob2/badge-classes/securite-hygiene-au-travail/d572fa621790","issuedOn":"%4$s","evidence":[{"type":"Evidence","id":"https://example.org/photo.jpg","narrative":"J'ai rempli la fiche de sécurité de l'atelier cuisine."}],"verification":{"type":"HostedBadge"},"related":[{"type":["https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential"],"id":"https://carnet.example.org/credentials/%1$s","version":"Open Badges v3p0"}]}$tpl$, id, salt, identity, ts),
    NULL, created, NULL,
    CASE WHEN bulk THEN 'api:test (bulk ' || md5('job:' || slug || ':' || round_no)::uuid || ')'
         ELSE 'api:test' END,
    CASE WHEN bulk THEN 'bulk-' || encode(sha256(convert_to('scale:' || n, 'UTF8')), 'hex') END,
    created,
    CASE WHEN k % 200 = 7 THEN created + interval '30 days' END,
    CASE WHEN k % 200 = 7 THEN 'Attribué par erreur' END,
    'rsa-1', identity
FROM (
    SELECT r.*,
        to_char(created AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS ts,
        'sha256$' || encode(sha256(convert_to(slug || ':person:' || person, 'UTF8')), 'hex')
            AS identity,
        md5('salt:' || slug || ':' || person) AS salt,
        'Personne ' || person AS rname,
        'z' || left(encode(sha512(convert_to(id::text, 'UTF8')), 'hex'), 87) AS proof
    FROM (
        SELECT q.*,
            (left(h, 12) || '4' || substr(h, 14, 3) || '8' || substr(h, 18))::uuid AS id,
            timestamptz '2023-01-02 08:00Z' + round_no * interval '10 hours 30 minutes'
                + CASE WHEN bulk THEN 0 ELSE n % (8 * :issuers) END * interval '1 second'
                AS created
        FROM (
            SELECT n, md5('carnet-scale:' || n) AS h,
                'ime-' || lpad((n % :issuers + 1)::text, 2, '0') AS slug,
                n / :issuers AS k,
                (n / :issuers) % (:per_issuer / 4) AS person,
                n / (8 * :issuers) AS round_no,
                (n / (8 * :issuers)) % 2 = 0 AS bulk
            FROM generate_series(:lo, :hi - 1) AS n
        ) q
    ) r
) s;
-- the audit trail: an "issued" event per award (as insert_award writes it), a "revoked" one
-- for the revoked (this part's awards: status indexes lo / issuers .. hi / issuers - 1)
INSERT INTO award_events (award_id, kind, actor, at, detail)
SELECT id, 'issued', issued_by, created_at,
    format('{"credential_id":"%s","badge_class":"%s","badge_class_digest":"%s","idempotency_key":%s,"status_list":%s,"status_index":%s}',
           credential_id, badge_class_slug, badge_class_digest,
           coalesce('"' || idempotency_key || '"', 'null'), status_list, status_index)
FROM awards WHERE status_index >= :lo / :issuers AND status_index < :hi / :issuers
ORDER BY created_at, id;
INSERT INTO award_events (award_id, kind, actor, at, detail)
SELECT id, 'revoked', 'api:test', revoked_at,
    format('{"credential_id":"%s","reason":"%s","status_list":%s,"status_index":%s}',
           credential_id, revocation_reason, status_list, status_index)
FROM awards WHERE status_index >= :lo / :issuers AND status_index < :hi / :issuers
    AND revoked_at IS NOT NULL
ORDER BY revoked_at, id;
COMMIT;
SQL
  }
  # two halves at once (2 cores): n in [0, half) and [half, awards), half a multiple of issuers
  half=$(( awards / issuers / 2 * issuers ))
  fill_part 0 "$half" & first=$!
  fill_part "$half" "$awards" & second=$!
  wait "$first"; wait "$second"
  t1=$(now); echo "awards and their events inserted: $(secs "$fill_started" "$t1") s"
  # the people, each created at its first award (as insert_awards records them)
  psql_ -c "INSERT INTO $schema.people (issuer_slug, person_key, created_at)
            SELECT issuer_slug, person_key, min(created_at) FROM $schema.awards
            GROUP BY issuer_slug, person_key"
  t2=$(now); echo "people inserted: $(secs "$t1" "$t2") s"
  # the revocation lists' revisions (one bump per revocation, as revoke_award does)
  psql_ -c "SET search_path = $schema" -c "UPDATE status_lists l SET revision = r.n, updated_at = r.last FROM (SELECT issuer_slug, count(*) AS n, max(revoked_at) AS last FROM awards WHERE revoked_at IS NOT NULL GROUP BY issuer_slug) r WHERE l.issuer_slug = r.issuer_slug AND l.purpose = 'revocation' AND l.list_number = 0"
  psql_ -c "VACUUM (ANALYZE) $schema.awards, $schema.award_events, $schema.status_lists, \
$schema.people"
  t3=$(now); echo "VACUUM ANALYZE: $(secs "$t2" "$t3") s"
  echo "fill total: $(secs "$fill_started" "$t3") s"
fi
for table in awards award_events people; do
  psql_ -At -F ' ' -c "SELECT count(*), pg_size_pretty(pg_total_relation_size('$schema.$table'))
                       FROM $schema.$table" |
    awk -v t="$table" '{printf "%-13s %8s rows, %s %s (heap, TOAST, indexes)\n", t, $1, $2, $3}'
done
[ -z "${SCALE_FILL_ONLY:-}" ] || exit 0
echo "== benchmark (= cargo test --release --test integration scale:: -- --ignored --nocapture --test-threads=1)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
run_tests scale:: --nocapture --test-threads=1 2>&1 | grep -vE '^(running [0-9]+ tests?|test result:.*|)$'
