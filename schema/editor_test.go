package schema_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The editor tests drive yaml-language-server — the engine of VS Code's
// YAML extension — over LSP, as the editor does: they open a recipe that
// names the schema in its first line and check the completions and
// diagnostics the user would see. .ci/run installs the server with
// `npm install --prefix .ci/node yaml-language-server@1.25.0`.

// yamlLanguageServer finds the server: $YAML_LANGUAGE_SERVER, the copy
// .ci/run installs, or one on PATH.
func yamlLanguageServer(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("YAML_LANGUAGE_SERVER"); p != "" {
		return p
	}
	if p, err := filepath.Abs("../.ci/node/node_modules/.bin/yaml-language-server"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("yaml-language-server"); err == nil {
		return p
	}
	t.Fatal("yaml-language-server not found: run `npm install --prefix .ci/node yaml-language-server@1.25.0` (as .ci/run does)")
	return ""
}

// lspClient is just enough of an LSP client for the tests.
type lspClient struct {
	t       *testing.T
	cmd     *exec.Cmd
	in      io.WriteCloser
	mu      sync.Mutex
	nextID  int
	replies map[int]chan json.RawMessage
	diags   chan json.RawMessage
}

func startServer(t *testing.T) *lspClient {
	t.Helper()
	cmd := exec.Command(yamlLanguageServer(t), "--stdio")
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &lspClient{t: t, cmd: cmd, in: in, replies: map[int]chan json.RawMessage{}, diags: make(chan json.RawMessage, 16)}
	go c.read(bufio.NewReader(out))
	t.Cleanup(func() {
		in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	root, _ := filepath.Abs("..")
	c.call("initialize", map[string]any{
		"processId": os.Getpid(), "rootUri": "file://" + root,
		"capabilities": map[string]any{
			"textDocument": map[string]any{"completion": map[string]any{"completionItem": map[string]any{"snippetSupport": false}}},
			"workspace":    map[string]any{"configuration": true},
		},
	})
	c.notify("initialized", map[string]any{})
	c.notify("workspace/didChangeConfiguration", map[string]any{"settings": settings})
	return c
}

// settings: no schema store (there is no network here), everything else as
// the extension's defaults.
var settings = map[string]any{"yaml": map[string]any{
	"validate": true, "completion": true, "hover": true, "schemaStore": map[string]any{"enable": false},
}}

func (c *lspClient) send(msg map[string]any) {
	msg["jsonrpc"] = "2.0"
	data, _ := json.Marshal(msg)
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.in, "Content-Length: %d\r\n\r\n%s", len(data), data)
}

func (c *lspClient) notify(method string, params any) {
	c.send(map[string]any{"method": method, "params": params})
}

// call sends a request and waits for its result. The deadline guards
// against a hung server; it is not a performance assertion.
func (c *lspClient) call(method string, params any) json.RawMessage {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan json.RawMessage, 1)
	c.replies[id] = ch
	c.mu.Unlock()
	c.send(map[string]any{"id": id, "method": method, "params": params})
	select {
	case r := <-ch:
		return r
	case <-time.After(time.Minute):
		c.t.Fatalf("no reply to %s", method)
		return nil
	}
}

func (c *lspClient) read(r *bufio.Reader) {
	for {
		length := 0
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSpace(line)
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				length, _ = strconv.Atoi(v)
			}
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		var msg struct {
			ID     *json.RawMessage `json:"id"`
			Method string           `json:"method"`
			Params json.RawMessage  `json:"params"`
			Result json.RawMessage  `json:"result"`
		}
		if json.Unmarshal(body, &msg) != nil {
			continue
		}
		switch {
		case msg.Method == "" && msg.ID != nil: // a reply to us
			id, _ := strconv.Atoi(string(*msg.ID))
			c.mu.Lock()
			ch := c.replies[id]
			c.mu.Unlock()
			if ch != nil {
				ch <- msg.Result
			}
		case msg.ID != nil: // a request from the server
			var result any
			if msg.Method == "workspace/configuration" {
				var p struct{ Items []any }
				json.Unmarshal(msg.Params, &p)
				items := make([]any, len(p.Items))
				for i := range items {
					items[i] = settings["yaml"]
				}
				result = items
			}
			c.send(map[string]any{"id": msg.ID, "result": result})
		case msg.Method == "textDocument/publishDiagnostics":
			select {
			case c.diags <- msg.Params:
			default:
			}
		}
	}
}

// open opens a recipe whose first line points at the checked-in schema.
func (c *lspClient) open(name, body string) string {
	schemaPath, _ := filepath.Abs("recipe.schema.json")
	dir := c.t.TempDir()
	uri := "file://" + filepath.Join(dir, name)
	text := "# yaml-language-server: $schema=" + schemaPath + "\n" + body
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{
		"uri": uri, "languageId": "yaml", "version": 1, "text": text,
	}})
	return uri
}

// complete returns the labels offered at a 0-based line and character of
// the body (the modeline is line 0 of the document).
func (c *lspClient) complete(uri string, line, char int) []string {
	raw := c.call("textDocument/completion", map[string]any{
		"textDocument": map[string]any{"uri": uri}, "position": map[string]any{"line": line + 1, "character": char},
	})
	var list struct {
		Items []struct{ Label string } `json:"items"`
	}
	if err := json.Unmarshal(raw, &list); err != nil || len(list.Items) == 0 {
		var items []struct{ Label string }
		json.Unmarshal(raw, &items)
		list.Items = items
	}
	labels := make([]string, len(list.Items))
	for i, it := range list.Items {
		labels[i] = it.Label
	}
	return labels
}

func containsAll(got []string, want ...string) bool {
	set := map[string]bool{}
	for _, g := range got {
		set[g] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}

func TestEditorCompletesRecipesFromTheSchema(t *testing.T) {
	c := startServer(t)
	cases := []struct {
		name       string
		body       string
		line, char int
		want       []string
	}{
		{"top-level keys", "version: 1\n\n", 1, 0, []string{"name", "vars", "env", "tasks", "include", "secrets"}},
		{"task keys", "version: 1\ntasks:\n  a:\n    \n", 3, 4, []string{"uses", "with", "needs", "if", "retry", "timeout", "for_each", "continue_on_error"}},
		{"task types", "version: 1\ntasks:\n  a:\n    uses: \n", 3, 10, []string{"shell"}},
		{"a type's params", "version: 1\ntasks:\n  a:\n    uses: shell\n    with:\n      \n", 5, 6, []string{"run", "shell", "dir", "env"}},
		{"enum values", "version: 1\ntasks:\n  a:\n    uses: shell\n    with:\n      shell: \n", 5, 13, []string{"sh", "bash"}},
		{"retry keys", "version: 1\ntasks:\n  a:\n    uses: shell\n    retry:\n      \n", 5, 6, []string{"attempts", "delay", "backoff", "max_delay", "on"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			uri := c.open(fmt.Sprintf("r%d.yaml", i), tc.body)
			if got := c.complete(uri, tc.line, tc.char); !containsAll(got, tc.want...) {
				t.Errorf("completions %v, want at least %v", got, tc.want)
			}
		})
	}
}

func TestEditorFlagsMistakesFromTheSchema(t *testing.T) {
	c := startServer(t)
	c.open("bad.yaml", "version: 1\ntasks:\n  a:\n    uses: shell\n    with:\n      rnu: echo hi\n")
	for {
		var p struct {
			URI         string `json:"uri"`
			Diagnostics []struct {
				Message string `json:"message"`
				Range   struct {
					Start struct{ Line int } `json:"start"`
				} `json:"range"`
			} `json:"diagnostics"`
		}
		select {
		case raw := <-c.diags:
			json.Unmarshal(raw, &p)
		case <-time.After(time.Minute):
			t.Fatal("no diagnostics published")
		}
		if !strings.HasSuffix(p.URI, "bad.yaml") || len(p.Diagnostics) == 0 {
			continue
		}
		var msgs []string
		for _, d := range p.Diagnostics {
			msgs = append(msgs, fmt.Sprintf("%d: %s", d.Range.Start.Line, d.Message))
		}
		joined := strings.Join(msgs, "\n")
		if !strings.Contains(joined, "6: Property rnu is not allowed") || !strings.Contains(joined, `Missing property "run"`) {
			t.Errorf("diagnostics:\n%s", joined)
		}
		return
	}
}
