-- Park what a rollback would lose for good, for the up file to put back:
-- custom roles, the audit log, token prefixes and password change times.
-- Sessions, refresh tokens and password resets go: a rollback below this
-- version signs everyone out.
CREATE TABLE condo_parked_users AS SELECT id, password_changed_at FROM users WHERE password_changed_at IS NOT NULL;
CREATE TABLE condo_parked_api_tokens AS SELECT id, prefix FROM api_tokens WHERE prefix != '';
ALTER TABLE api_tokens DROP COLUMN prefix;
ALTER TABLE users DROP COLUMN password_changed_at;
DROP INDEX audit_log_time;
ALTER TABLE audit_log RENAME TO condo_parked_audit_log;
ALTER TABLE roles RENAME TO condo_parked_roles;
DROP TABLE password_resets;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
