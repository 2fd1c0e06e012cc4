package io.pgrelay.protocol.message.backend;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.BackendMessage;

/**
 * The {@code 'R'} messages of the authentication exchange, told apart by their Int32 code.
 * Methods pgrelay does not implement (Kerberos, GSS, SSPI...) decode to
 * {@link AuthenticationOther}, so the caller can refuse them by name.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP">Start-up</a>
 * @see <a href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONOK">Authentication messages</a>
 */
public sealed interface Authentication extends BackendMessage
        permits AuthenticationOk, AuthenticationCleartextPassword, AuthenticationMd5Password, AuthenticationSasl,
        AuthenticationSaslContinue, AuthenticationSaslFinal, AuthenticationOther {
    byte TYPE = 'R';

    /** The Int32 code that identifies the request. */
    int code();

    /** Decodes the body of an {@code 'R'} frame (the bytes after the header). */
    static Authentication decode(ByteBuf body) {
        int code = Wire.readInt(body);
        Authentication message = switch (code) {
            case AuthenticationOk.CODE -> AuthenticationOk.INSTANCE;
            case AuthenticationCleartextPassword.CODE -> AuthenticationCleartextPassword.INSTANCE;
            case AuthenticationMd5Password.CODE -> new AuthenticationMd5Password(Wire.readBytes(body, 4));
            case AuthenticationSasl.CODE -> AuthenticationSasl.decodeMechanisms(body);
            case AuthenticationSaslContinue.CODE -> new AuthenticationSaslContinue(Wire.readRemaining(body));
            case AuthenticationSaslFinal.CODE -> new AuthenticationSaslFinal(Wire.readRemaining(body));
            default -> new AuthenticationOther(code, Wire.readRemaining(body));
        };
        Wire.requireFullyRead(body);
        return message;
    }
}
