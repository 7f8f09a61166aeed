package hrana

import "strings"

// What SQL through the endpoint may do with each of Condo's tables in a
// tenant's database (migrations/tenant). Every other table is the
// tenant's own: read, written, created, altered and dropped freely.
// Condo's tables keep their schema whatever their kind: no DROP, ALTER,
// CREATE INDEX or CREATE TRIGGER on them (a trigger of the tenant's on
// users, say, would run inside Condo's own writes and could copy a
// password hash), and no new table takes one of their names.
type tableKind int

const (
	tenantTable   tableKind = iota // the tenant's own (or SQLite's sqlite_schema, sqlite_sequence)
	cmsTable                       // Condo's schema, the tenant's rows: read and written
	readOnlyTable                  // read, never written: identity and bookkeeping
	secretTable                    // never read nor written
	ftsTable                       // the search index: read; written by Condo's triggers only
	ftsShadow                      // the search index's storage: read; written by FTS5 only
)

var condoTables = map[string]tableKind{
	// The CMS: a client with sql.write edits content as the API does, and
	// the schema's CHECKs and triggers keep what the CMS relies on.
	"collections": cmsTable, "content": cmsTable, "content_versions": cmsTable,
	"media": cmsTable, "workflow_history": cmsTable,

	// Identity changes go through the API, which checks and audits them:
	// writing these directly could mint a login (a password hash, an API
	// token, a role, a signup setting), or rewrite the audit log and the
	// migration state.
	"users": readOnlyTable, "api_tokens": readOnlyTable, "roles": readOnlyTable,
	"settings": readOnlyTable, "audit_log": readOnlyTable, "schema_migrations": readOnlyTable,

	// Sessions and the hashes of refresh and reset tokens: nothing in them
	// is the tenant's data, and a reader could take over a login.
	"sessions": secretTable, "refresh_tokens": secretTable, "password_resets": secretTable,

	// Plugins' settings and webhook endpoints are validated by the API;
	// the outbox and its deliveries are written with the changes they
	// report: a forged event would go out signed with the tenant's secret.
	"plugins": readOnlyTable, "webhooks": readOnlyTable, "webhook_events": readOnlyTable,
	"webhook_deliveries": readOnlyTable,

	"content_fts": ftsTable, "content_fts_terms": ftsTable,
	"content_fts_data": ftsShadow, "content_fts_idx": ftsShadow,
	"content_fts_docsize": ftsShadow, "content_fts_config": ftsShadow,

	// SQLite's own: the raw pages of the file (every secret in it), the
	// planner's statistics (sqlite_stat4 samples index keys, token hashes
	// among them; changed statistics would change Condo's query plans).
	"sqlite_dbpage": secretTable, "sqlite_stat4": secretTable, "sqlite_stat3": secretTable,
	"sqlite_stat1": readOnlyTable, "sqlite_stat2": readOnlyTable,
}

// writerTables are read with sql.write only: sql.read is an editor's
// permission too, and an editor reads neither the audit log (audit.read)
// nor the list of API tokens (tokens.manage), nor the settings of
// plugins and webhooks (settings.update).
var writerTables = map[string]bool{"audit_log": true, "api_tokens": true,
	"plugins": true, "webhooks": true, "webhook_events": true, "webhook_deliveries": true}

// secretColumns read as NULL (SQLITE_IGNORE), in tables otherwise
// readable: SELECT * FROM users works and shows no hash, and a WHERE on
// the column matches nothing, so it cannot be guessed at either.
var secretColumns = map[string]string{
	"users":      "password_hash",
	"api_tokens": "token_hash",
	"webhooks":   "secret", // signs deliveries: shown once, at creation
}

// condoTriggers are the migrations' triggers that keep the search index
// in step with content: only their writes reach content_fts. A tenant
// cannot make a trigger of these names (they exist, on content, which the
// tenant cannot add triggers to nor drop them from).
var condoTriggers = map[string]bool{
	"content_fts_insert": true, "content_fts_delete": true, "content_fts_update": true,
}

// vtableModules are the virtual tables a tenant may make for itself:
// search and spatial indexes, which live in the file like any table.
var vtableModules = map[string]bool{
	"fts5": true, "fts5vocab": true, "rtree": true, "rtree_i32": true, "geopoly": true,
}

func kindOf(table string) tableKind {
	t := strings.ToLower(table)
	if k, ok := condoTables[t]; ok {
		return k
	}
	switch {
	case strings.HasPrefix(t, "condo_"): // parked by a down migration, for its up
		return readOnlyTable
	case strings.HasPrefix(t, "content_fts"):
		return ftsShadow
	}
	return tenantTable
}

func secretColumn(table, column string) bool {
	c, ok := secretColumns[strings.ToLower(table)]
	return ok && strings.EqualFold(c, column)
}

// condoOwned reports whether name is Condo's (or one of SQLite's
// statistics tables) to define: a table the tenant may not create, drop,
// alter or index. SQLite keeps other sqlite_ names to itself.
func condoOwned(name string) bool { return kindOf(name) != tenantTable }

// writable reports whether a row of table may be inserted, updated or
// deleted. FTS5 writes its shadow tables from statements of its own, which
// SQLite presents like a client's (no trigger): they pass here, and a
// client's are refused by defensive mode (Protect).
func writable(table, db, trigger string) bool {
	if strings.EqualFold(db, "temp") {
		return true
	}
	switch kindOf(table) {
	case tenantTable, cmsTable:
		return true
	case ftsTable:
		return condoTriggers[strings.ToLower(trigger)]
	case ftsShadow:
		return trigger == ""
	}
	return false
}

// Pragmas a client may run. infoPragmas describe the schema or check the
// file, with an object name or none; readPragmas only when they read a
// setting (no value); setting one would change the connection for the
// next stream that gets it from the pool, or weaken durability and
// safety. database_list and temp_store_directory are left out: they show
// the server's paths.
var (
	infoPragmas = set("table_info", "table_xinfo", "table_list", "index_info", "index_xinfo", "index_list",
		"foreign_key_list", "foreign_key_check", "integrity_check", "quick_check")
	readPragmas = set("application_id", "auto_vacuum", "automatic_index", "busy_timeout", "cache_size",
		"cache_spill", "cell_size_check", "collation_list", "compile_options", "data_version",
		"defer_foreign_keys", "encoding", "foreign_keys", "freelist_count", "fullfsync", "function_list",
		"journal_mode", "journal_size_limit", "legacy_alter_table", "locking_mode", "max_page_count",
		"mmap_size", "module_list", "page_count", "page_size", "pragma_list", "query_only",
		"recursive_triggers", "reverse_unordered_selects", "schema_version", "secure_delete",
		"synchronous", "temp_store", "trusted_schema", "user_version", "wal_autocheckpoint")
)

func pragmaAllowed(name, value string) bool {
	name = strings.ToLower(name)
	switch {
	case infoPragmas[name]:
		return true
	case value == "":
		return readPragmas[name]
	case name == "defer_foreign_keys": // ends with the transaction
		return true
	case name == "foreign_keys":
		// Off too, as sqld allows: @libsql/client's migrate() turns
		// foreign keys off around a migration. It lasts until the
		// stream ends (Release turns them on again).
		_, ok := fkValues[strings.ToLower(value)]
		return ok
	}
	return false
}

// fkValues are the values PRAGMA foreign_keys takes, and whether each
// turns them on.
var fkValues = map[string]bool{"1": true, "on": true, "true": true, "yes": true, "0": false, "off": false, "false": false, "no": false}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
