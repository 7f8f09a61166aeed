-- condo:no-transaction
VACUUM;
