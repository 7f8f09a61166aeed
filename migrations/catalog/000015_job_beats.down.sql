ALTER TABLE lifecycle_jobs DROP COLUMN beat_at;
