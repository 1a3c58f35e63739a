package password_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/latchauth/latch/password"
)

func Example() {
	ctx := context.Background()
	// Two hashes at a time, eight more waiting; beyond that, ErrBusy.
	h := password.NewHasher(password.DefaultParams, 2, 8)

	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.HasPrefix(encoded, "$argon2id$v=19$m=19456,t=2,p=1$"))

	ok, rehash, err := h.Verify(ctx, encoded, "correct horse battery staple")
	fmt.Println(ok, rehash, err)

	ok, rehash, err = h.Verify(ctx, encoded, "Tr0ub4dor&3")
	fmt.Println(ok, rehash, err)

	// A hash imported from a Werkzeug application verifies too, and asks to
	// be replaced by an argon2id one.
	legacy := "sha256$3sPkpo0bJmIpEqZO$63822098a826bb4c2cf8bdaf5d87dfdea89105b1b9f5b380c39220553aaa7a35"
	ok, rehash, err = h.Verify(ctx, legacy, "correct horse battery staple")
	fmt.Println(ok, rehash, err)

	// No such user: same work, no match, no error.
	ok, rehash, err = h.Verify(ctx, "", "correct horse battery staple")
	fmt.Println(ok, rehash, err)

	_, _, err = h.Verify(ctx, "md5$salt$0123", "correct horse battery staple")
	fmt.Println(errors.Is(err, password.ErrUnknownFormat))
	// Output:
	// true
	// true false <nil>
	// false false <nil>
	// true true <nil>
	// false false <nil>
	// true
}

func ExampleIdentify() {
	for _, encoded := range []string{
		"$2b$04$wAM5u8y6tA9crmztS.2kwe8J5ILuZjRjSdEqXBfEJzOoTI6UKG9Am",
		"pbkdf2_sha256$1000$6Q4qOVawjssSKO2Hq1GthA$dURL0fFu+No2f6kd9WG3C/Yt7vFflvnSwAk5wi7ePTw=",
		"$2b$31$wAM5u8y6tA9crmztS.2kwe8J5ILuZjRjSdEqXBfEJzOoTI6UKG9Am",
	} {
		format, err := password.Identify(encoded)
		fmt.Printf("%q %v\n", format, err)
	}
	// Output:
	// "bcrypt" <nil>
	// "django-pbkdf2_sha256" <nil>
	// "" bcrypt: cost 31 not in [4, 16]: unknown password hash format
}
