package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newMigrateCommand() *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations and exit",
		Long: "migrate brings the database's schema up to this version of herald without\n" +
			"serving. herald serve does the same at start; run migrate first when several\n" +
			"heralds share one PostgreSQL database, so none of them starts on an old schema.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := openStore(cmd.Context(), db)
			if err != nil {
				return err
			}
			defer store.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "%s is up to date\n", redactURL(db))
			return nil
		},
	}
	cmd.Flags().StringVar(&db, "db", defaultDB, "SQLite file path or postgres:// URL")
	return cmd
}
