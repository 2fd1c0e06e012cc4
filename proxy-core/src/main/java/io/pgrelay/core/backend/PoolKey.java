package io.pgrelay.core.backend;

/** Backend connections are pooled per node, user and database. */
public record PoolKey(int nodeIndex, String nodeName, String user, String database) {
    @Override
    public String toString() {
        return user + "@" + nodeName + "/" + database;
    }
}
