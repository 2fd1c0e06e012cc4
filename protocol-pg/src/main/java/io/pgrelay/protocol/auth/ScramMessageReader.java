package io.pgrelay.protocol.auth;

import io.pgrelay.protocol.PgProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Cursor over a SCRAM message ({@code attr=value} pairs separated by commas), modelled on
 * {@code read_attr_value()} and {@code read_any_attr()} in PostgreSQL's {@code auth-scram.c}.
 * Bytes are mapped 1:1 to chars (ISO-8859-1) so the text can be turned back into the exact
 * bytes that go into the AuthMessage. Every error is a {@link PgProtocolException} with SQLSTATE
 * 08P01 whose message never echoes unsanitized peer input.
 */
final class ScramMessageReader {
    private final String text;
    private int pos;

    private ScramMessageReader(String text) {
        this.text = text;
    }

    /**
     * Checks the framing rules PostgreSQL applies to every SCRAM message (non-empty, no NUL) and
     * wraps it.
     */
    static ScramMessageReader of(byte[] message, String what) {
        if (message == null || message.length == 0) {
            throw malformed("empty " + what);
        }
        for (byte b : message) {
            if (b == 0) {
                throw malformed("message length does not match input length in " + what);
            }
        }
        return new ScramMessageReader(new String(message, StandardCharsets.ISO_8859_1));
    }

    /** The bytes of an ISO-8859-1 string built from message text. */
    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    String text() {
        return text;
    }

    int position() {
        return pos;
    }

    boolean atEnd() {
        return pos >= text.length();
    }

    /** The next character without consuming it; {@code 0} at the end. */
    char peek() {
        return atEnd() ? 0 : text.charAt(pos);
    }

    /** Consumes the next character if it is {@code c}. */
    boolean consume(char c) {
        if (peek() == c) {
            pos++;
            return true;
        }
        return false;
    }

    /** Consumes {@code c} or fails. */
    void expect(char c, String context) {
        if (!consume(c)) {
            throw malformed("expected " + describe(c) + " but found " + describe(peek()) + " in " + context);
        }
    }

    /** Reads {@code attr=value}, up to and including the following comma, if any. */
    String readAttribute(char attr) {
        char found = peek();
        if (found != attr) {
            throw malformed("expected attribute \"" + attr + "\" but found " + describe(found));
        }
        pos++;
        if (peek() != '=') {
            throw malformed("expected character \"=\" for attribute \"" + attr + "\"");
        }
        pos++;
        return readValue();
    }

    /** An {@code attr=value} pair. */
    record Attribute(char name, String value) {
    }

    /**
     * Reads any {@code ALPHA=value} attribute (e.g. an extension), up to and including the
     * following comma, if any.
     */
    Attribute readAnyAttribute() {
        char attr = peek();
        if (attr == 0) {
            throw malformed("attribute expected, but found end of string");
        }
        if (!((attr >= 'A' && attr <= 'Z') || (attr >= 'a' && attr <= 'z'))) {
            throw malformed("attribute expected, but found invalid character " + describe(attr));
        }
        pos++;
        if (peek() != '=') {
            throw malformed("expected character \"=\" for attribute \"" + attr + "\"");
        }
        pos++;
        return new Attribute(attr, readValue());
    }

    private String readValue() {
        int end = text.indexOf(',', pos);
        String value;
        if (end < 0) {
            value = text.substring(pos);
            pos = text.length();
        } else {
            value = text.substring(pos, end);
            pos = end + 1;
        }
        return value;
    }

    /** Decodes padded standard base64 (as PostgreSQL's {@code pg_b64_decode}) or fails with 08P01. */
    static byte[] base64(String value, String what) {
        if (value.length() % 4 != 0) {
            throw malformed("invalid base64 in " + what);
        }
        try {
            return Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            throw malformed("invalid base64 in " + what);
        }
    }

    static PgProtocolException malformed(String detail) {
        return PgProtocolException.violation("malformed SCRAM message: " + detail);
    }

    /** A character for an error message: itself if printable ASCII, else its hex code. */
    static String describe(char c) {
        if (c == 0) {
            return "end of message";
        }
        if (c >= 0x21 && c <= 0x7E) {
            return "\"" + c + "\"";
        }
        return String.format("0x%02x", (int) c);
    }

    /** A string for an error message: non-printable ASCII replaced by '?', at most 30 chars. */
    static String sanitize(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && i < 30; i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x21 && c <= 0x7E ? c : '?');
        }
        return sb.toString();
    }
}
