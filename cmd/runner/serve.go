package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/novelfactory/runner/internal/finance"

	"github.com/urfave/cli/v2"

	"github.com/novelfactory/runner/engine"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/serve"
	"github.com/novelfactory/runner/internal/serve/web"
)

// serveCommand is `runner serve [DIR...]`: the schedules, the dashboard,
// the API and /metrics of the recipes in DIR (the current folder when
// none).
func serveCommand(p process) *cli.Command {
	return &cli.Command{
		Name:      "serve",
		Usage:     "keep the recipes' schedules and serve the dashboard, the API and /metrics",
		ArgsUsage: "[DIR...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8080", Usage: "listen on `ADDR` (host:port)"},
			&cli.StringFlag{Name: "state-dir", Usage: "keep every recipe's run state in `DIR` (default: .runner beside each recipe)"},
			&cli.StringFlag{Name: "finance-csv", Value: "metrics/finance.csv", Usage: "the dated `CSV` of the finance page, relative to the current folder"},
			&cli.StringFlag{Name: "finance-unit", Value: "원", Usage: "the `UNIT` of the finance totals (as the report task's unit)"},
			&cli.StringFlag{Name: "backups", Usage: "the s3:// or file:// `TARGET` whose backup sets the backups page lists"},
			&cli.StringFlag{Name: "token-file", Usage: "read bearer tokens from `FILE` (lines `operator TOKEN` or `read TOKEN`), besides $" + web.EnvOperatorToken + " and $" + web.EnvReadToken},
			&cli.DurationFlag{Name: "grace", Value: serve.DefaultGrace, Usage: "on SIGTERM, let running tasks go on for `DURATION` before cancelling them"},
		},
		Action: action(func(c *cli.Context) error {
			dirs := c.Args().Slice()
			if len(dirs) == 0 {
				dirs = []string{"."}
			}
			grace := c.Duration("grace")
			if grace == 0 {
				grace = -1 // serve.Config: 0 is the default, negative none
			}
			logger := slog.New(slog.NewTextHandler(p.masker.Writer(p.stderr), nil))
			core, err := serve.New(serve.Config{
				Dirs: dirs, StateDir: c.String("state-dir"), Registry: tasktype.Builtin(), Environ: p.environ,
				Masker: p.masker, Now: p.now, Grace: grace, Kill: p.sig.kill,
				FinanceCSV: c.String("finance-csv"), Finance: finance.Options{Unit: c.String("finance-unit")}, BackupTarget: c.String("backups"), Logger: logger,
			})
			if err != nil {
				return &engine.UsageError{Err: err}
			}
			tokens, err := web.LoadTokens(p.environ, c.String("token-file"))
			if err != nil {
				return &engine.UsageError{Err: err}
			}
			if err := web.CheckListen(c.String("listen"), tokens); err != nil {
				return &engine.UsageError{Err: fmt.Errorf("--listen: %w", err)}
			}
			handler, err := web.New(core, web.Config{
				Tokens: tokens, Metrics: core.Metrics(), Logger: logger, Masker: p.masker, Now: p.now,
				FinanceConfigured: c.String("finance-csv") != "", BackupsConfigured: c.String("backups") != "",
			})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", c.String("listen"))
			if err != nil {
				return &engine.UsageError{Err: fmt.Errorf("--listen: %w", err)}
			}
			// From here on, an interrupt winds the server down (see
			// interrupts): the first one ends ctx.
			p.sig.busy.Start()
			defer p.sig.busy.Stop()
			srv := web.HTTPServer(handler, web.DefaultLimits)
			logger.Info("runner serve: listening", "addr", ln.Addr().String(), "recipes", dirs)
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			coreDone := make(chan error, 1)
			go func() { coreDone <- core.Serve(c.Context) }()
			select {
			case err := <-served:
				return fmt.Errorf("serve http: %w", err)
			case err = <-coreDone:
			}
			// The runs are saved: stop answering.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
			logger.Info("runner serve: stopped")
			return err
		}),
	}
}
