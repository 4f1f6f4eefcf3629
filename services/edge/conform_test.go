package edge_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/httvps/httvps/schemas/openapi"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

type docOperation struct {
	Responses map[string]docResponse `json:"responses"`
}

type docResponse struct {
	Ref     string `json:"$ref"`
	Content map[string]struct {
		Schema struct {
			Ref string `json:"$ref"`
		} `json:"schema"`
	} `json:"content"`
}

type docPath struct {
	pattern *regexp.Regexp
	ops     map[string]docOperation
}

var conformChecks atomic.Int64

var (
	docOnce      sync.Once
	docPaths     []docPath
	docResponses map[string]docResponse
)

func loadDoc(tb testing.TB) {
	docOnce.Do(func() {
		var d struct {
			Paths      map[string]map[string]docOperation `json:"paths"`
			Components struct {
				Responses map[string]docResponse `json:"responses"`
			} `json:"components"`
		}
		if err := json.Unmarshal(openapi.Document, &d); err != nil {
			panic(err)
		}
		for p, ops := range d.Paths {
			parts := strings.Split(p, "/")
			for i, part := range parts {
				if pathParam.MatchString(part) {
					parts[i] = `[^/]+`
				} else {
					parts[i] = regexp.QuoteMeta(part)
				}
			}
			docPaths = append(docPaths, docPath{pattern: regexp.MustCompile("^" + strings.Join(parts, "/") + "$"), ops: ops})
		}
		docResponses = d.Components.Responses
	})
}

// conform checks an answer against the OpenAPI document: its status is documented for the
// operation and its body matches the documented schema.
func conform(tb testing.TB, method, path string, r response) {
	tb.Helper()
	loadDoc(tb)
	path, _, _ = strings.Cut(path, "?")
	var op *docOperation
	for _, p := range docPaths {
		if p.pattern.MatchString(path) {
			if o, ok := p.ops[strings.ToLower(method)]; ok {
				op = &o
			}
		}
	}
	if op == nil {
		return
	}
	conformChecks.Add(1)
	resp, ok := op.Responses[strconv.Itoa(r.status)]
	if !ok {
		tb.Errorf("%s %s answered %d, which openapi.json does not document\n%s", method, path, r.status, r.raw)
		return
	}
	if resp.Ref != "" {
		resp = docResponses[strings.TrimPrefix(resp.Ref, "#/components/responses/")]
	}
	ref := resp.Content["application/json"].Schema.Ref
	if ref == "" {
		return
	}
	name := strings.TrimPrefix(ref, "#/components/schemas/")
	sch, err := openapi.Schema(name)
	if err != nil {
		tb.Fatalf("compile %s: %v", name, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.raw))
	if err != nil {
		tb.Errorf("%s %s: body is not JSON: %v\n%s", method, path, err, r.raw)
		return
	}
	if err := sch.Validate(doc); err != nil {
		tb.Errorf("%s %s %d: body does not match %s: %v\n%s", method, path, r.status, name, err, r.raw)
	}
}
