package tracker

import (
	"reflect"
	"testing"
)

func TestImportPath(t *testing.T) {
	if got := reflect.TypeFor[Tracker]().PkgPath(); got != ImportPath {
		t.Fatalf("ImportPath is %q, the package is %q", ImportPath, got)
	}
}
