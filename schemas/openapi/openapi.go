// Package openapi embeds the OpenAPI 3.1 document of the REST edge (/api/v1).
package openapi

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed openapi.json
var Document []byte

// DocumentURL is the base the document's own $refs resolve against.
const DocumentURL = "https://github.com/httvps/httvps/schemas/openapi/openapi.json"

var (
	compileOnce sync.Once
	compiler    *jsonschema.Compiler
	compileErr  error
	compileMu   sync.Mutex
)

// Schema compiles components.schemas[name] (JSON Schema 2020-12, formats asserted).
func Schema(name string) (*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Document))
		if err != nil {
			compileErr = fmt.Errorf("openapi.json: %w", err)
			return
		}
		compiler = jsonschema.NewCompiler()
		compiler.DefaultDraft(jsonschema.Draft2020)
		compiler.AssertFormat()
		compiler.UseLoader(offline{})
		compileErr = compiler.AddResource(DocumentURL, doc)
	})
	if compileErr != nil {
		return nil, compileErr
	}
	compileMu.Lock()
	defer compileMu.Unlock()
	return compiler.Compile(DocumentURL + "#/components/schemas/" + name)
}

type offline struct{}

func (offline) Load(url string) (any, error) {
	return nil, fmt.Errorf("openapi: %s is not in the document", url)
}
