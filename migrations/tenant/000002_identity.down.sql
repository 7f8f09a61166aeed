ALTER TABLE api_tokens DROP COLUMN prefix;
ALTER TABLE users DROP COLUMN password_changed_at;
DROP TABLE audit_log;
DROP TABLE roles;
DROP TABLE password_resets;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
