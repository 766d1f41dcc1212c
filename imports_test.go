package herald_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPublicPackagesImportOnlyStdlib guards CONTRACT §1: an application
// that imports herald's domain, types, client or verify pulls in no
// database driver or other module.
func TestPublicPackagesImportOnlyStdlib(t *testing.T) {
	allowed := map[string]bool{
		"github.com/heraldhq/herald":        true,
		"github.com/heraldhq/herald/types":  true,
		"github.com/heraldhq/herald/client": true,
		"github.com/heraldhq/herald/verify": true,
	}
	for pkg := range allowed {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if !allowed[dep] {
				t.Errorf("%s imports %s; it may import only the standard library and %v", pkg, dep, keys(allowed))
			}
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
