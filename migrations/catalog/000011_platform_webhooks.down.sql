DROP TABLE webhook_tenants;
DROP INDEX platform_webhook_deliveries_of;
DROP INDEX platform_webhook_deliveries_due;
DROP TABLE platform_webhook_deliveries;
DROP TABLE platform_webhook_events;
DROP TABLE platform_webhooks;
