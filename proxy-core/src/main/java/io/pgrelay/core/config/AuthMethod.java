package io.pgrelay.core.config;

/** How a client proves who it is to pgrelay. */
public enum AuthMethod {
    SCRAM_SHA_256, MD5, PASSWORD, TRUST
}
