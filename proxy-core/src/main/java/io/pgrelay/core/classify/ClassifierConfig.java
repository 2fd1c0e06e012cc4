package io.pgrelay.core.classify;

import io.pgrelay.core.config.ProxyConfig;

import java.util.List;

/**
 * Classifier settings ({@code routing.*}).
 *
 * @param cacheSize          classifications cached per database (default 10 000)
 * @param maxStatementLength a statement longer than this (bytes) once its literals are stripped is not
 *                           analysed: primary (default 64 KiB); one long only because of its literals is
 * @param maxScanLength      longer query strings (bytes) are not even lexed: primary (default 16 MiB)
 * @param writeFunctions     functions always treated as writes
 * @param readOnlyFunctions  functions always treated as safe on a replica
 * @param useCalcite         refine soft decisions with Calcite on a cache miss
 */
public record ClassifierConfig(int cacheSize, int maxStatementLength, int maxScanLength, List<String> writeFunctions,
                               List<String> readOnlyFunctions, boolean useCalcite) {
    public static final int DEFAULT_CACHE_SIZE = 10_000;
    public static final int DEFAULT_MAX_STATEMENT_LENGTH = 64 * 1024;
    public static final int DEFAULT_MAX_SCAN_LENGTH = 16 * 1024 * 1024;

    public ClassifierConfig {
        if (cacheSize < 0) {
            throw new IllegalArgumentException("routing.cache-size must be >= 0");
        }
        if (maxStatementLength < 1) {
            throw new IllegalArgumentException("routing.max-statement-length must be >= 1");
        }
        if (maxScanLength < maxStatementLength) {
            throw new IllegalArgumentException("routing.max-scan-length must be >= routing.max-statement-length");
        }
        writeFunctions = List.copyOf(writeFunctions);
        readOnlyFunctions = List.copyOf(readOnlyFunctions);
    }

    public static ClassifierConfig defaults() {
        return new ClassifierConfig(DEFAULT_CACHE_SIZE, DEFAULT_MAX_STATEMENT_LENGTH, DEFAULT_MAX_SCAN_LENGTH, List.of(),
                List.of(), true);
    }

    /** From the proxy's {@code routing:} section. */
    public static ClassifierConfig from(ProxyConfig.RoutingConfig routing) {
        return new ClassifierConfig(routing.cacheSize(), routing.maxStatementLength(), routing.maxScanLength(),
                routing.writeFunctions(),
                routing.readOnlyFunctions(), true);
    }

    public ClassifierConfig withMaxStatementLength(int max) {
        return new ClassifierConfig(cacheSize, max, Math.max(max, maxScanLength), writeFunctions, readOnlyFunctions,
                useCalcite);
    }

    public ClassifierConfig withMaxScanLength(int max) {
        return new ClassifierConfig(cacheSize, maxStatementLength, max, writeFunctions, readOnlyFunctions, useCalcite);
    }

    public ClassifierConfig withCacheSize(int size) {
        return new ClassifierConfig(size, maxStatementLength, maxScanLength, writeFunctions, readOnlyFunctions, useCalcite);
    }
}
