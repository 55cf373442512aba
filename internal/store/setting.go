package store

import (
	"context"
	"time"

	"github.com/leadflow/leadflow"
)

// Setting keys.
const (
	SettingRouting          = "routing"
	SettingSLA              = "sla"
	SettingRejectionReasons = "rejection_reasons"
	SettingNotifications    = "notifications"
)

// Setting is one settings document: YAML validated by the package that
// owns it before it is stored.
type Setting struct {
	Key       string    `json:"key"`
	Value     string    `json:"value"`
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

func scanSetting(key string, r rowScanner) (*Setting, error) {
	s := &Setting{Key: key}
	var at int64
	if err := r.Scan(&s.Value, &s.UpdatedBy, &at); err != nil {
		return nil, notFound(wrapDB(err, "setting"), "setting %s is not set", key)
	}
	s.UpdatedAt = fromUS(at)
	return s, nil
}

// Setting reads a settings document; ENOTFOUND when it was never set.
func (db *DB) Setting(ctx context.Context, key string) (*Setting, error) {
	return scanSetting(key, db.queryRow(ctx, "SettingGet", key))
}

// Setting reads a settings document inside a transaction.
func (tx *Tx) Setting(ctx context.Context, key string) (*Setting, error) {
	return scanSetting(key, tx.queryRow(ctx, "SettingGet", key))
}

// PutSetting stores a settings document and audits the change.
func (tx *Tx) PutSetting(ctx context.Context, key, value, by string) error {
	if key == "" {
		return leadflow.Invalidf("key", "a setting needs a key")
	}
	if _, err := tx.exec(ctx, "SettingPut", key, value, by, us(tx.Now)); err != nil {
		return err
	}
	return tx.Audit(ctx, by, "setting.put", "setting:"+key, 0, "")
}
