package io.pgrelay.core.config;

/** Whether TLS is refused, offered, or demanded (on the client side or toward backends). */
public enum TlsMode {
    DISABLE, PREFER, REQUIRE
}
