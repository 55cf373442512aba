package notify

import (
	"context"
	netmail "net/mail"

	"github.com/leadflow/leadflow"
)

// SendMail sends one message composed elsewhere (the weekly review digest)
// through the SMTP server of the notification settings, at once. It is
// ECONFLICT when no SMTP server is configured.
func (n *Notifier) SendMail(ctx context.Context, toName, toAddr, subject, text, html string) error {
	set, err := n.Settings(ctx)
	if err != nil {
		return err
	}
	if set.SMTP == nil {
		return leadflow.Errorf(leadflow.ECONFLICT, "SMTP is not configured: PUT /api/v1/settings/notifications with an smtp section first")
	}
	return n.send(ctx, set.SMTP, &netmail.Address{Name: toName, Address: toAddr}, subject, text, html)
}
