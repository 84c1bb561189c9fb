package record

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// API key roles, from least to most privileged.
const (
	RoleRead  = "read"  // read records, status, logs, events
	RoleBuild = "build" // read, plus plan, start, cancel and retry builds, pause workers
	RoleAdmin = "admin" // everything, database maintenance included
)

// RoleRank orders roles; 0 means unknown.
func RoleRank(role string) int {
	switch role {
	case RoleRead:
		return 1
	case RoleBuild:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// APIKey is one API key of `dsynth serve` (bucket apikeys, keyed by ID).
// Only a salted SHA-256 of the secret is stored: the key itself is shown
// once, when it is created.
type APIKey struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Created time.Time `json:"created"`
	Revoked time.Time `json:"revoked,omitzero"`
	// Salt and Hash are hex; Hash = SHA-256(salt || secret).
	Salt string `json:"salt"`
	Hash string `json:"hash"`
}

// apiKeyPrefix starts every key: "dsk_" <id, 12 hex> "_" <secret, 64 hex>.
const apiKeyPrefix = "dsk_"

// ErrBadAPIKey is returned for a key that is malformed, unknown, wrong or
// revoked (callers must not tell these apart to the client).
var ErrBadAPIKey = errors.New("invalid API key")

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func hashSecret(salt, secret string) string {
	h := sha256.New()
	h.Write([]byte(salt))
	h.Write([]byte(secret))
	return hex.EncodeToString(h.Sum(nil))
}

// CreateAPIKey stores a new key named name with role and returns the key
// string (to show once) and its record.
func (db *DB) CreateAPIKey(name, role string) (string, *APIKey, error) {
	if strings.TrimSpace(name) == "" {
		return "", nil, errors.New("api key: a name is required")
	}
	if RoleRank(role) == 0 {
		return "", nil, fmt.Errorf("api key: unknown role %q (read, build or admin)", role)
	}
	id, err := randomHex(6)
	if err != nil {
		return "", nil, err
	}
	secret, err := randomHex(32)
	if err != nil {
		return "", nil, err
	}
	salt, err := randomHex(16)
	if err != nil {
		return "", nil, err
	}
	k := &APIKey{ID: id, Name: name, Role: role, Created: time.Now().UTC(), Salt: salt, Hash: hashSecret(salt, secret)}
	b, err := json.Marshal(k)
	if err != nil {
		return "", nil, err
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketAPIKeys)
		if bk.Get([]byte(id)) != nil {
			return fmt.Errorf("api key id %s collides, try again", id)
		}
		return bk.Put([]byte(id), b)
	})
	if err != nil {
		return "", nil, fmt.Errorf("records %s: api key: %w", db.path, err)
	}
	return apiKeyPrefix + id + "_" + secret, k, nil
}

// APIKeys lists every key (revoked ones included), oldest first.
func (db *DB) APIKeys() ([]*APIKey, error) {
	var out []*APIKey
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAPIKeys)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var a APIKey
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("decode api key %s: %w", k, err)
			}
			out = append(out, &a)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, err
}

// RevokeAPIKey revokes the key with id or name (a name must be unique
// among unrevoked keys).
func (db *DB) RevokeAPIKey(idOrName string) (*APIKey, error) {
	var out *APIKey
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAPIKeys)
		var match []*APIKey
		err := b.ForEach(func(k, v []byte) error {
			var a APIKey
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("decode api key %s: %w", k, err)
			}
			if a.ID == idOrName || (a.Name == idOrName && a.Revoked.IsZero()) {
				match = append(match, &a)
			}
			return nil
		})
		if err != nil {
			return err
		}
		switch len(match) {
		case 0:
			return fmt.Errorf("api key %s: %w", idOrName, ErrNotFound)
		case 1:
		default:
			return fmt.Errorf("api key name %q is ambiguous: revoke by id", idOrName)
		}
		out = match[0]
		if out.Revoked.IsZero() {
			out.Revoked = time.Now().UTC()
		}
		v, err := json.Marshal(out)
		if err != nil {
			return err
		}
		return b.Put([]byte(out.ID), v)
	})
	return out, err
}

// VerifyAPIKey checks key and returns its record. Every failure is
// ErrBadAPIKey; the secret is compared in constant time.
func (db *DB) VerifyAPIKey(key string) (*APIKey, error) {
	rest, ok := strings.CutPrefix(key, apiKeyPrefix)
	if !ok {
		return nil, ErrBadAPIKey
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 12 || len(secret) != 64 {
		return nil, ErrBadAPIKey
	}
	var a APIKey
	found := false
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAPIKeys)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(id))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &a)
	})
	if err != nil {
		return nil, fmt.Errorf("records %s: api key: %w", db.path, err)
	}
	if !found {
		// Spend the same time as a real comparison.
		subtle.ConstantTimeCompare([]byte(hashSecret("", secret)), []byte(strings.Repeat("0", 64)))
		return nil, ErrBadAPIKey
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(a.Salt, secret)), []byte(a.Hash)) != 1 || !a.Revoked.IsZero() {
		return nil, ErrBadAPIKey
	}
	return &a, nil
}
