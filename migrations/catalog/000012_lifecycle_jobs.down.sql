DROP TABLE lifecycle_jobs;
