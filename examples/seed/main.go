// Command seed runs the snippets of herald's webhook guide, unchanged,
// against a running herald: register, list, test, delete.
//
//	herald serve &
//	go run ./examples/seed
//
// HERALD_URL (default http://127.0.0.1:8080) and HERALD_TOKEN choose the
// server and the API key.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/types"
)

func main() {
	ctx := context.Background()
	baseURL := os.Getenv("HERALD_URL")
	if baseURL == "" {
		baseURL = "http://127.0.0.1:8080"
	}
	client := client.New(client.Config{BaseURL: baseURL, Token: os.Getenv("HERALD_TOKEN")})

	// Регистрация webhook
	webhookResp, err := client.RegisterWebhook(ctx, &types.RegisterWebhookRequest{
		Config: &types.WebhookConfig{
			URL:    "https://myapp.com/webhook",
			Events: []string{"template.completed", "template.failed", "batch.completed"},
			Secret: "webhook-secret-123",
			RetryPolicy: &types.WebhookRetryPolicy{
				MaxRetries:    3,
				InitialDelay:  1000,  // 1 секунда
				MaxDelay:      30000, // 30 секунд
				BackoffFactor: 2.0,
			},
			Active:      true,
			Description: "Webhook for async operations",
		},
	})
	if err != nil {
		log.Fatal(err)
	}

	fmt.Printf("Webhook registered: %s\n", webhookResp.WebhookID)

	// Получение списка webhooks
	webhooks, err := client.ListWebhooks(ctx, &types.ListWebhooksRequest{
		ActiveOnly: true,
		Limit:      10,
		Offset:     0,
	})
	if err != nil {
		log.Fatal(err)
	}

	for _, wh := range webhooks.Webhooks {
		fmt.Printf("Webhook %s: %s (%d/%d успехов/ошибок)\n",
			wh.ID, wh.Config.URL, wh.SuccessCount, wh.ErrorCount)
	}

	// Тестирование webhook
	testResp, err := client.TestWebhook(ctx, &types.TestWebhookRequest{
		WebhookID: webhookResp.WebhookID,
		Event:     "template.completed",
		Data:      map[string]interface{}{"test": true},
	})
	if err != nil {
		log.Fatal(err)
	}

	fmt.Printf("Webhook test: %s (%d ms, code %d)\n",
		testResp.Status, testResp.ResponseTimeMS, testResp.ResponseCode)

	// Удаление webhook
	deleteResp, err := client.DeleteWebhook(ctx, webhookResp.WebhookID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Webhook deleted: %s\n", deleteResp.WebhookID)
}
