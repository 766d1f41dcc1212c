package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/heraldhq/herald"
)

func newKeysCommand() *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage API keys, directly in the database",
		Long: "keys creates, lists and revokes API keys. Each key belongs to a tenant and\n" +
			"sees only that tenant's webhooks, events and deliveries. herald stores only\n" +
			"a hash of each key. Once any key exists, herald serve requires a key on every\n" +
			"API request (a running herald notices within seconds).",
	}
	cmd.PersistentFlags().StringVar(&db, "db", defaultDB, "SQLite file path or postgres:// URL")
	cmd.AddCommand(newKeysCreateCommand(&db), newKeysListCommand(&db), newKeysRevokeCommand(&db))
	return cmd
}

func newKeysCreateCommand(db *string) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "create --tenant NAME",
		Short: "Create a key and print it, once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := herald.CheckTenantName(tenant); err != nil {
				return err
			}
			store, err := openStore(cmd.Context(), *db)
			if err != nil {
				return err
			}
			defer store.Close()
			key := herald.GenerateAPIKey()
			id, err := createAPIKey(cmd.Context(), store, tenant, key)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key %s for tenant %s:\n\n  %s\n\nKeep it: herald stores only its hash and cannot show it again.\n", id, tenant, key)
			return nil
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant the key belongs to")
	cmd.MarkFlagRequired("tenant")
	return cmd
}

func newKeysListCommand(db *string) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List keys (never the keys themselves)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := openStore(cmd.Context(), *db)
			if err != nil {
				return err
			}
			defer store.Close()
			keys, err := store.ListAPIKeys(cmd.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			row(w, "ID", "TENANT", "KEY", "CREATED", "STATUS")
			for _, k := range keys {
				status := "active"
				if !k.RevokedAt.IsZero() {
					status = "revoked " + k.RevokedAt.Format(time.RFC3339)
				}
				row(w, k.ID, k.TenantID, k.Hint, k.CreatedAt.Format(time.RFC3339), status)
			}
			return w.Flush()
		},
	}
}

func newKeysRevokeCommand(db *string) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a key: requests with it are refused at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := openStore(cmd.Context(), *db)
			if err != nil {
				return err
			}
			defer store.Close()
			if err := store.RevokeAPIKey(cmd.Context(), args[0], time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key %s revoked\n", args[0])
			return nil
		},
	}
}

func createAPIKey(ctx context.Context, store herald.Store, tenant, key string) (string, error) {
	id := "key_" + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String(), "-", "")[:16]
	return id, store.CreateAPIKey(ctx, &herald.APIKey{
		ID: id, TenantID: tenant, Hash: herald.HashAPIKey(key), Hint: herald.APIKeyHint(key), CreatedAt: time.Now().UTC(),
	})
}

// bootstrapAPIKeys creates the tenant:key pairs of --api-keys
// (HERALD_API_KEYS) that do not exist yet.
func bootstrapAPIKeys(ctx context.Context, store herald.Store, pairs []string) error {
	for _, pair := range pairs {
		tenant, key, ok := strings.Cut(strings.TrimSpace(pair), ":")
		if !ok {
			return fmt.Errorf("--api-keys: %q is not tenant:key", herald.APIKeyHint(pair))
		}
		if err := herald.CheckTenantName(tenant); err != nil {
			return fmt.Errorf("--api-keys: %w", err)
		}
		if err := herald.CheckAPIKey(key); err != nil {
			return fmt.Errorf("--api-keys: tenant %s: %w", tenant, err)
		}
		if _, err := createAPIKey(ctx, store, tenant, key); err != nil && herald.ErrorCodeOf(err) != herald.CodeConflict {
			return fmt.Errorf("--api-keys: %w", err)
		}
	}
	return nil
}

func hasWorkingKey(ctx context.Context, store herald.Store) (bool, error) {
	keys, err := store.ListAPIKeys(ctx)
	if err != nil {
		return false, err
	}
	for _, k := range keys {
		if k.RevokedAt.IsZero() {
			return true, nil
		}
	}
	return false, nil
}
