#!/bin/sh
# Makes the certificates the TLS tests use: a CA, a server certificate for localhost/127.0.0.1,
# a client certificate, and a client certificate from another CA (which must be refused).
set -eu
out=$1
mkdir -p "$out"
cd "$out"
[ -f done ] && exit 0
days=3650
key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }
ca() {  # name subject
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -out "$1.pem" -days $days -subj "$2" 2>/dev/null
}
cert() {  # name ca subject san
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "$3" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" \
    -days $days -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
ca ca "/CN=libsim test CA"
ca rogue "/CN=someone else's CA"
cert server ca "/CN=localhost" "DNS:localhost,IP:127.0.0.1"
cert client ca "/CN=libsim test client" "DNS:client"
cert intruder rogue "/CN=intruder" "DNS:intruder"
touch done
