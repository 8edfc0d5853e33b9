package requirements_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/requirements"
)

func run(t *testing.T, files map[string]string) (tasktype.Outputs, error) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := tasktype.NewRegistry()
	requirements.Register(r)
	typ, _ := r.Lookup("requirements")
	p, err := typ.Decode(map[string]any{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	env := &tasktype.Env{Dir: dir, Log: io.Discard, Logger: slog.New(slog.DiscardHandler)}
	return typ.Run(context.Background(), env, p)
}

const lock = `# pip freeze
certifi==2024.8.30
charset-normalizer==3.4.0
Jinja2==3.1.4
PyYAML==6.0.2
requests==2.32.3
zope.interface==7.1.1
ruamel.yaml.clib===0.2.12
`

func TestEveryKindOfRequirementLineIsFoundInTheLock(t *testing.T) {
	out, err := run(t, map[string]string{
		"requirements.txt": `# The factory's dependencies

requests[socks,security] >= 2.31  # HTTP
jinja2
pyyaml; python_version < "3.13"
Zope_Interface \
    >=7
-r extra/more.txt
--index-url https://pypi.org/simple
tomli; python_version < "3.11"
`,
		"extra/more.txt":    "Charset.Normalizer==3.4.0 --hash=sha256:0123abcd \\\n    --hash=sha256:4567ef\nRUAMEL-YAML-CLIB\n-r ../requirements.txt\n",
		"requirements.lock": lock,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"requests": "2.32.3", "jinja2": "3.1.4", "pyyaml": "6.0.2", "zope-interface": "7.1.1",
		"charset-normalizer": "3.4.0", "ruamel-yaml-clib": "0.2.12"}
	if !reflect.DeepEqual(out["pinned"], want) {
		t.Errorf("pinned %v, want %v", out["pinned"], want)
	}
	if skipped := out["skipped"].([]string); len(skipped) != 1 || !strings.HasPrefix(skipped[0], "tomli (") {
		t.Errorf("skipped %v, want tomli, whose marker may not hold", skipped)
	}
}

func TestEveryUnpinnedRequirementIsNamedWithItsLine(t *testing.T) {
	_, err := run(t, map[string]string{
		"requirements.txt": "requests\nnumpy>=1.26\nflask\n-r dev.txt\n",
		"dev.txt":          "\n\npytest\n",
		"requirements.lock": "requests>=2.0\nnumpy==1.*\npytest==8.3.3\npytest==8.3.4\n" +
			"-e git+https://example.com/repo.git#egg=tool\n",
	})
	if err == nil {
		t.Fatal("a lock that pins nothing exactly passed")
	}
	for _, want := range []string{
		`requirements.lock:1: requests (`, `requirements.txt:1) is locked as ">=2.0", not pinned with ==`,
		`requirements.lock:2: numpy (`, `is locked as "==1.*"`,
		`requirements.txt:3: flask is not in `,
		`requirements.lock:4: pytest is locked twice (==8.3.3 at line 3, ==8.3.4 here)`,
		`requirements.lock:5: git+https://example.com/repo.git#egg=tool is editable`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the report lacks %q:\n%v", want, err)
		}
	}
}

func TestAMissingLockIsAClearError(t *testing.T) {
	_, err := run(t, map[string]string{"requirements.txt": "requests\n"})
	if err == nil || !strings.Contains(err.Error(), "read lock") {
		t.Errorf("error %v, want one about reading the lock", err)
	}
}
