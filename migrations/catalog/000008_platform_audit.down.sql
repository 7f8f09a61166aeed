DROP TABLE platform_audit;
