package store

import (
	"context"
	"database/sql"

	"github.com/leadflow/leadflow"
)

// The weekly review digest: per-user subscriptions (with the language of
// the email) and the durable record of every digest sent.

// DigestLangs are the languages a digest is written in.
var DigestLangs = []string{"ja", "en"}

// Subscriber is a user who gets the review digest.
type Subscriber struct {
	UserID      int64
	Name        string
	DisplayName string
	Email       string
	Lang        string
}

// SetReviewSubscription subscribes the user to the review digest in lang
// (ja or en), or unsubscribes them when on is false.
func (tx *Tx) SetReviewSubscription(ctx context.Context, userID int64, on bool, lang string) error {
	if !on {
		_, err := tx.exec(ctx, "ReviewUnsubscribe", userID)
		return err
	}
	if lang != "ja" && lang != "en" {
		return leadflow.Invalidf("lang", "unknown language %q; use ja or en", lang)
	}
	_, err := tx.exec(ctx, "ReviewSubscribe", userID, lang, us(tx.Now))
	return err
}

// ReviewSubscription reports whether the user subscribes, and in which
// language.
func (db *DB) ReviewSubscription(ctx context.Context, userID int64) (bool, string, error) {
	var lang string
	err := db.queryRow(ctx, "ReviewSubscriptionOf", userID).Scan(&lang)
	if err == sql.ErrNoRows {
		return false, "", nil
	}
	if err != nil {
		return false, "", wrapDB(err, "review subscription")
	}
	return true, lang, nil
}

// ReviewSubscribers lists the active subscribers with an email address.
func (db *DB) ReviewSubscribers(ctx context.Context) ([]Subscriber, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("ReviewSubscribers"))
	if err != nil {
		return nil, wrapDB(err, "review subscribers")
	}
	defer rows.Close()
	var out []Subscriber
	for rows.Next() {
		var s Subscriber
		if err := rows.Scan(&s.UserID, &s.Name, &s.DisplayName, &s.Email, &s.Lang); err != nil {
			return nil, wrapDB(err, "review subscribers")
		}
		out = append(out, s)
	}
	return out, wrapDB(rows.Err(), "review subscribers")
}

// ClaimReviewDigest records that the digest of period goes to the user and
// reports whether this call recorded it (false: it was already sent, or is
// being sent). Commit before sending; release the claim when sending fails.
func (tx *Tx) ClaimReviewDigest(ctx context.Context, period string, userID int64) (bool, error) {
	res, err := tx.exec(ctx, "ReviewDigestClaim", period, userID, us(tx.Now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, wrapDB(err, "claim review digest")
}

// ReleaseReviewDigest forgets a claim whose email could not be sent, so
// that the next run sends it.
func (tx *Tx) ReleaseReviewDigest(ctx context.Context, period string, userID int64) error {
	_, err := tx.exec(ctx, "ReviewDigestRelease", period, userID)
	return err
}
