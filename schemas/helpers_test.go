package schemas_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func newCompiler(t *testing.T) *jsonschema.Compiler {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.AssertContent()
	c.UseLoader(refuseLoader{})
	entries, err := fs.ReadDir(schemas.Files, schemas.SchemaDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(readFile(t, path.Join(schemas.SchemaDir, e.Name()))))
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		if err := c.AddResource(schemas.SchemaBaseURL+e.Name(), doc); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
	}
	return c
}

// refuseLoader keeps the compiler offline: every $ref must resolve to an embedded schema.
type refuseLoader struct{}

func (refuseLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not embedded", url)
}

func compile(t *testing.T, c schemas.Contract) *jsonschema.Schema {
	t.Helper()
	sch, err := newCompiler(t).Compile(c.SchemaURL())
	if err != nil {
		t.Fatalf("compile %s: %v", c.Schema, err)
	}
	return sch
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(schemas.Files, name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func validate(sch *jsonschema.Schema, data []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return sch.Validate(doc)
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if err := dec.Decode(new(json.RawMessage)); !errors.Is(err, io.EOF) {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

func object(t *testing.T, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	na, err := json.Marshal(object(t, a))
	if err != nil {
		t.Fatal(err)
	}
	nb, err := json.Marshal(object(t, b))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(na, nb)
}

// set assigns value at a dotted path; a nil value deletes the key.
func set(m map[string]any, dotted string, value any) {
	keys := strings.Split(dotted, ".")
	for _, k := range keys[:len(keys)-1] {
		m = m[k].(map[string]any)
	}
	last := keys[len(keys)-1]
	if value == nil {
		delete(m, last)
		return
	}
	m[last] = value
}

func schemaDoc(t *testing.T, file string) map[string]any {
	t.Helper()
	return object(t, readFile(t, path.Join(schemas.SchemaDir, file)))
}

func enumAt(t *testing.T, file string, pointer ...string) []string {
	t.Helper()
	var v any = schemaDoc(t, file)
	for _, k := range pointer {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: %v is not an object", file, pointer)
		}
		v = m[k]
	}
	items, ok := v.([]any)
	if !ok {
		t.Fatalf("%s: no enum at %v", file, pointer)
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.(string)
	}
	return out
}

func strs[T ~string](vs ...T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func exportedStructs(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gen.Specs {
				ts, ok := spec.(*ast.TypeSpec)
				if !ok {
					continue
				}
				if _, isStruct := ts.Type.(*ast.StructType); isStruct && ts.Name.IsExported() {
					names = append(names, ts.Name.Name)
				}
			}
		}
	}
	return names
}

func compileDef(t *testing.T, def string) *jsonschema.Schema {
	t.Helper()
	sch, err := newCompiler(t).Compile(schemas.SchemaBaseURL + schemas.CommonFile + "#/$defs/" + def)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}
