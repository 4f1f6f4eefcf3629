package natsauth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nats-io/nkeys"
)

// Store is a directory of identities: <role>-<name>.nk holds the seed (0600), <role>-<name>.pub
// the public key. Rendering reads only the .pub files, so a seed may be moved to its host.
type Store struct{ Dir string }

const (
	seedExt   = ".nk"
	publicExt = ".pub"
)

// ConfigFile is where the rendered accounts block is written inside the store.
func (s Store) ConfigFile() string { return filepath.Join(s.Dir, "accounts.conf") }

func (s Store) SeedFile(role, name string) string {
	return filepath.Join(s.Dir, role+"-"+name+seedExt)
}

func (s Store) publicFile(role, name string) string {
	return filepath.Join(s.Dir, role+"-"+name+publicExt)
}

// Create makes a new nkey user for the identity unless one exists; it reports whether it made one.
func (s Store) Create(role, name string) (bool, error) {
	if err := checkName(role, name); err != nil {
		return false, err
	}
	if _, err := os.Stat(s.publicFile(role, name)); err == nil {
		return false, nil
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return false, fmt.Errorf("create nkey: %w", err)
	}
	seed, _ := kp.Seed()
	pub, _ := kp.PublicKey()
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return false, fmt.Errorf("create %s: %w", s.Dir, err)
	}
	if err := os.WriteFile(s.SeedFile(role, name), append(seed, '\n'), 0o600); err != nil {
		return false, fmt.Errorf("write seed: %w", err)
	}
	if err := os.WriteFile(s.publicFile(role, name), []byte(pub+"\n"), 0o644); err != nil {
		return false, fmt.Errorf("write public key: %w", err)
	}
	return true, nil
}

// Remove deletes the identity's seed and public key; an identity that is not there is an error.
func (s Store) Remove(role, name string) error {
	if err := checkName(role, name); err != nil {
		return err
	}
	if err := os.Remove(s.publicFile(role, name)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s %s is not in %s", role, name, s.Dir)
		}
		return err
	}
	if err := os.Remove(s.SeedFile(role, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Users reads every public key of the store with the permissions of its identity.
func (s Store) Users() ([]User, error) {
	files, err := filepath.Glob(filepath.Join(s.Dir, "*"+publicExt))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	users := make([]User, 0, len(files))
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), publicExt)
		role, name, ok := strings.Cut(base, "-")
		if !ok {
			return nil, fmt.Errorf("%s: name is not <role>-<name>%s", f, publicExt)
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		pub := strings.TrimSpace(string(raw))
		if !nkeys.IsValidPublicUserKey(pub) {
			return nil, fmt.Errorf("%s: not an nkey user public key", f)
		}
		u := User{Role: role, Name: name, PublicKey: pub}
		switch role {
		case RoleService:
			u.Permissions, err = ServicePermissions(name)
		case RoleGateway:
			u.Permissions, err = GatewayPermissions(name)
		case RoleAgent:
			u.Permissions, err = AgentPermissions(name)
		default:
			err = fmt.Errorf("role %q is not %s, %s or %s", role, RoleService, RoleGateway, RoleAgent)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		users = append(users, u)
	}
	return users, nil
}

// WriteConfig renders the store's users into path (ConfigFile when empty) and returns the path.
func (s Store) WriteConfig(path string) (string, error) {
	if path == "" {
		path = s.ConfigFile()
	}
	users, err := s.Users()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(Render(users)), 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}

func checkName(role, name string) error {
	switch role {
	case RoleGateway:
		if _, err := GatewayPermissions(name); err != nil {
			return err
		}
		if strings.ContainsAny(name, `/\`) {
			return fmt.Errorf("gateway id %q must not contain a path separator", name)
		}
	case RoleService:
		if _, err := ServicePermissions(name); err != nil {
			return err
		}
	case RoleAgent:
		if _, err := AgentPermissions(name); err != nil {
			return err
		}
	default:
		return fmt.Errorf("role %q is not %s, %s or %s", role, RoleService, RoleGateway, RoleAgent)
	}
	return nil
}
