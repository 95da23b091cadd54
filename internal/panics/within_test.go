package panics_test

import (
	"strings"
	"testing"

	"github.com/go-i2p/go-opentracker/internal/panics"
)

// within runs f and reports what Within(pkg) said of the panic it raised.
func within(pkg string, f func()) (in bool) {
	defer func() {
		if recover() != nil {
			in = panics.Within(pkg)
		}
	}()
	f()
	return false
}

func TestWithinFindsThePanickingPackage(t *testing.T) {
	inStrings := func() { _ = strings.Repeat("x", -1) } // panics inside package strings
	here := func() { panic("raised in the test") }
	if !within("strings", inStrings) {
		t.Fatal("a panic raised in package strings is not seen within it")
	}
	if within("strings", here) {
		t.Fatal("a panic raised outside package strings is seen within it")
	}
	if within("string", inStrings) {
		t.Fatal("a prefix of an import path matched as a package")
	}
}
