// Command ferretdb runs an embedded FerretDB v1 server: the MongoDB-compatible
// database used for local development and tests (real MongoDB works the same).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	handler := flag.String("handler", "sqlite", "storage backend: sqlite or postgresql")
	sqliteDir := flag.String("sqlite-dir", ".data/ferretdb", "data directory for the sqlite handler")
	postgresURL := flag.String("postgresql-url", "postgres://127.0.0.1:5432/ferretdb", "connection string for the postgresql handler")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	exitOnStdinEOF := flag.Bool("exit-on-stdin-eof", false, "exit when standard input closes (the parent process died)")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	config := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   logger,
		Handler:  *handler,
	}
	switch *handler {
	case "sqlite":
		if err := os.MkdirAll(*sqliteDir, 0o700); err != nil {
			fatal(err)
		}
		config.SQLiteURL = "file:" + *sqliteDir + "/"
	case "postgresql":
		config.PostgreSQLURL = *postgresURL
	default:
		fatal(fmt.Errorf("unknown handler %q (use sqlite or postgresql)", *handler))
	}

	db, err := ferretdb.New(config)
	if err != nil {
		fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *exitOnStdinEOF {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	done := make(chan struct{})
	go func() {
		_ = db.Run(ctx)
		close(done)
	}()
	fmt.Printf("ferretdb listening %s\n", db.MongoDBURI())
	<-done
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "ferretdb:", err)
	os.Exit(1)
}
