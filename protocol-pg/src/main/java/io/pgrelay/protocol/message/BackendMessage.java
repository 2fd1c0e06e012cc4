package io.pgrelay.protocol.message;

/**
 * A message the server sends to a client. Implementations are immutable values.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html">Message formats</a>
 */
public interface BackendMessage extends Message {
}
