DROP INDEX outbox_status;
DROP TABLE usage_daily;
