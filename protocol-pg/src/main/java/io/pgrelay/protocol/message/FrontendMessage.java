package io.pgrelay.protocol.message;

/**
 * A message a client sends to the server. Implementations are immutable values.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html">Message formats</a>
 */
public interface FrontendMessage extends Message {
}
