package inprocess_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/plugin"
	"github.com/go-i2p/go-opentracker/plugin/inprocess"
)

// A router bundles the tracker: its I2CP server (here the simulator)
// serves the tracker's in-process connection, its console mux carries
// the tracker's console and toggle under /opentracker/, and the tracker
// starts at router start-up if the operator left it on.
func Example() {
	dir, err := os.MkdirTemp("", "opentracker-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	i2cpServer := i2cptest.NewInProcess(i2cptest.Options{})
	defer i2cpServer.Close()
	consoleMux, tunnelMux := http.NewServeMux(), http.NewServeMux()

	host, err := inprocess.New(inprocess.Config{
		DataDir:       dir,
		ServeI2CP:     i2cpServer.ServeConn,
		HandleConsole: consoleMux.Handle,
		MountTracker:  func(h http.Handler) { tunnelMux.Handle("/", h) },
		Options:       plugin.Options{Logger: slog.New(slog.DiscardHandler)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := host.Resume(ctx); err != nil { // at router start-up
		fmt.Println(err)
		return
	}
	fmt.Println("enabled at first start:", host.Enabled())
	if err := host.SetEnabled(ctx, true); err != nil { // the console's toggle
		fmt.Println(err)
		return
	}
	fmt.Println("enabled from the console:", host.Enabled())
	if err := host.Close(ctx); err != nil { // at router shutdown
		fmt.Println(err)
		return
	}
	state, _ := os.ReadFile(dir + "/enabled")
	fmt.Printf("kept for the next start: %s", state)
	// Output:
	// enabled at first start: false
	// enabled from the console: true
	// kept for the next start: true
}
