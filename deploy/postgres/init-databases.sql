-- Run once by the postgres image (docker-compose.yml) when its data volume is empty, as POSTGRES_USER
-- (asielketen, a superuser in that image). One database per service: a service never reads another's data.
-- \gexec makes each CREATE conditional (CREATE DATABASE has no IF NOT EXISTS), so a re-run is harmless.
SELECT format('CREATE DATABASE %I OWNER asielketen', name)
FROM unnest(ARRAY['intake', 'placement', 'procedure', 'return_cases', 'history']) AS name
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = name)
\gexec
