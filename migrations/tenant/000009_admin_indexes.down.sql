DROP INDEX content_status;
DROP INDEX content_updated;
