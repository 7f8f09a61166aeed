DROP TABLE meta;
DROP TABLE platform_admins;
DROP TABLE tenant_invitations;
DROP TABLE tenant_domains;
DROP TABLE tenants;
