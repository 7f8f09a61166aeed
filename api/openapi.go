package api

import (
	"context"
	"math"
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/cms"
)

// openAPI serves GET /api: the OpenAPI 3 document of the tenant API,
// generated from the registered routes and the tenant's collections (the
// public ones for an anonymous caller), so it is always current.
func (s *Server) openAPI(c echo.Context) error {
	var cols []*cms.Collection
	all := can(c, auth.CollectionsRead)
	err := s.withContent(c, func(ctx context.Context, st *cms.Store) error {
		list, err := st.Collections(ctx)
		for _, col := range list {
			if all || col.Public {
				cols = append(cols, col)
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	t := tenantOf(c)
	doc := map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": t.Name + " API", "version": "1", "description": "The Condo content API of tenant " + t.ID + "."},
		"servers": openAPIServers(c, s.origin(c)),
		"paths":   s.openAPIPaths(cols),
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer",
				"description": "an access token from POST /auth/login, or an API token (condo_...)"}},
			"schemas": openAPISchemas(cols),
		},
	}
	return sendTagged(c, http.StatusOK, doc)
}

// openAPIPaths describes every tenant route (not /platform, /healthz,
// /readyz), plus one typed path per collection for its content.
func (s *Server) openAPIPaths(cols []*cms.Collection) map[string]any {
	paths := map[string]map[string]any{}
	routes := s.echo.Routes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
	for _, r := range routes {
		if strings.HasPrefix(r.Path, "/platform") || r.Path == HealthPath || r.Path == ReadyPath || !strings.HasPrefix(r.Path, "/") ||
			strings.HasPrefix(r.Path, TenantPathPrefix) { // the same endpoint as on the host, addressed by id
			continue
		}
		if r.Method == http.MethodHead {
			continue // every GET answers HEAD; clients know it
		}
		path, params := openAPIPath(r.Path)
		op := map[string]any{
			"operationId": strings.ToLower(r.Method) + strings.NewReplacer("/", "_", ":", "", "-", "_").Replace(r.Path),
			"security":    []map[string][]string{{"bearer": {}}, {}},
			"responses": map[string]any{
				"200":     map[string]any{"description": "success"},
				"default": map[string]any{"description": "an error", "content": jsonContent(ref("Error"))},
			},
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(r.Method)] = op
	}
	for _, col := range cols {
		item := ref(col.Name + "Item")
		paths["/api/collections/"+col.Name+"/content"] = map[string]any{
			"get": map[string]any{"summary": "List " + col.DisplayName, "operationId": "list_" + col.Name,
				"parameters": []any{whereParam(), query("sort", "JSON [{field,order}] or -field,field"),
					intQuery("limit", "page size", 1, cms.MaxListLimit, cms.DefaultListLimit),
					intQuery("offset", "items to skip", 0, math.MaxInt32, 0), query("cursor", "next_cursor of the previous page"),
					query("fields", "data fields to return"), query("include", "reference fields to expand"), query("status", "")},
				"responses": map[string]any{"200": map[string]any{"description": "a page", "content": jsonContent(map[string]any{"type": "object",
					"properties": map[string]any{"data": map[string]any{"type": "array", "items": item}, "meta": ref("ListMeta")}})}}},
			"post": map[string]any{"summary": "Create a " + col.DisplayName + " item", "operationId": "create_" + col.Name,
				"requestBody": map[string]any{"required": true, "content": jsonContent(ref(col.Name + "Input"))},
				"responses":   map[string]any{"201": map[string]any{"description": "created", "content": jsonContent(map[string]any{"type": "object", "properties": map[string]any{"data": item}})}}},
		}
	}
	out := make(map[string]any, len(paths))
	for k, v := range paths {
		out[k] = v
	}
	return out
}

// openAPIPath turns /api/content/:id into /api/content/{id} and its
// parameters.
func openAPIPath(p string) (string, []any) {
	var params []any
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if name, ok := strings.CutPrefix(part, ":"); ok {
			parts[i] = "{" + name + "}"
			params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]string{"type": "string"}})
		}
	}
	return strings.Join(parts, "/"), params
}

func openAPISchemas(cols []*cms.Collection) map[string]any {
	out := map[string]any{
		"Error": map[string]any{"type": "object", "properties": map[string]any{"error": map[string]any{"type": "object",
			"properties": map[string]any{"code": str(), "message": str(), "fields": map[string]any{"type": "object", "additionalProperties": str()}}}}},
		"WhereGroup": map[string]any{"type": "object", "description": "the and-list AND the or-list; groups nest",
			"properties": map[string]any{"and": whereList(), "or": whereList()}},
		"WhereCondition": map[string]any{"type": "object", "required": []string{"field", "operator"}, "properties": map[string]any{
			"field":    map[string]any{"type": "string", "description": "a column such as title, status or created_at, or data.<field>"},
			"operator": map[string]any{"type": "string", "enum": cms.Operators()},
			"value":    map[string]any{"description": "the value compared with; a list for in and not_in; none for exists"}}},
		"ListMeta": map[string]any{"type": "object", "properties": map[string]any{"total": integer(), "limit": integer(), "offset": integer(), "next_cursor": str()}},
	}
	for _, col := range cols {
		data := fieldsSchema(col.Schema.Fields)
		out[col.Name+"Input"] = map[string]any{"type": "object", "properties": map[string]any{
			"title": str(), "slug": str(), "status": map[string]any{"type": "string", "enum": []string{"draft", "review", "published", "archived"}},
			"publish_at": dateTime(), "unpublish_at": dateTime(), "data": data}}
		out[col.Name+"Item"] = map[string]any{"type": "object", "properties": map[string]any{
			"id": str(), "collection": str(), "title": str(), "slug": str(), "status": str(), "version": integer(),
			"created_at": dateTime(), "updated_at": dateTime(), "published_at": dateTime(), "data": data}}
	}
	return out
}

// fieldsSchema maps a collection's fields to JSON Schema.
func fieldsSchema(fields []*cms.Field) map[string]any {
	props := map[string]any{}
	var req []string
	for _, f := range fields {
		props[f.Name] = fieldSchema(f)
		if f.Required {
			req = append(req, f.Name)
		}
	}
	out := map[string]any{"type": "object", "properties": props}
	if len(req) > 0 {
		out["required"] = req
	}
	return out
}

func fieldSchema(f *cms.Field) map[string]any {
	var out map[string]any
	switch f.Type {
	case "number":
		out = map[string]any{"type": "number"}
	case "integer":
		out = integer()
	case "boolean":
		out = map[string]any{"type": "boolean"}
	case "date":
		out = map[string]any{"type": "string", "format": "date"}
	case "datetime":
		out = dateTime()
	case "email":
		out = map[string]any{"type": "string", "format": "email"}
	case "url":
		out = map[string]any{"type": "string", "format": "uri"}
	case "select", "radio":
		out = map[string]any{"type": "string", "enum": f.Options}
	case "multiselect":
		out = map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": f.Options}}
	case "array":
		out = map[string]any{"type": "array"}
		if f.Items != nil {
			out["items"] = fieldSchema(f.Items)
		}
	case "object":
		out = fieldsSchema(f.Fields)
	case "json":
		out = map[string]any{}
	default: // string, textarea, richtext, markdown, color, slug, reference, media, file
		out = str()
	}
	if f.Help != "" {
		out["description"] = f.Help
	}
	return out
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
func jsonContent(schema any) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": schema}}
}

// openAPIServers is the origin the document was asked for, port
// included, so a client can call what it reads, then the tenant's
// canonical origin when that is another.
func openAPIServers(c echo.Context, canonical string) []map[string]string {
	here := c.Scheme() + "://" + c.Request().Host
	out := []map[string]string{{"url": here}}
	if canonical != here {
		out = append(out, map[string]string{"url": canonical, "description": "the tenant's primary origin"})
	}
	return out
}

// whereParam is the list's where parameter: a JSON group or condition.
func whereParam() map[string]any {
	return map[string]any{"name": "where", "in": "query",
		"description": "JSON: {\"and\":[{\"field\":\"data.price\",\"operator\":\"greater_than\",\"value\":10}],\"or\":[...]}, or one condition",
		"content":     jsonContent(map[string]any{"oneOf": []any{ref("WhereGroup"), ref("WhereCondition")}})}
}

func whereList() map[string]any {
	return map[string]any{"type": "array", "items": map[string]any{"oneOf": []any{ref("WhereCondition"), ref("WhereGroup")}}}
}

func intQuery(name, desc string, lo, hi, def int) map[string]any {
	return map[string]any{"name": name, "in": "query", "description": desc,
		"schema": map[string]any{"type": "integer", "minimum": lo, "maximum": hi, "default": def}}
}

func query(name, desc string) map[string]any {
	return map[string]any{"name": name, "in": "query", "description": desc, "schema": str()}
}
func str() map[string]any      { return map[string]any{"type": "string"} }
func integer() map[string]any  { return map[string]any{"type": "integer"} }
func dateTime() map[string]any { return map[string]any{"type": "string", "format": "date-time"} }
