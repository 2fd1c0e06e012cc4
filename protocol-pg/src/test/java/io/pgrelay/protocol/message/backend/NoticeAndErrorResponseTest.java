package io.pgrelay.protocol.message.backend;

import org.junit.jupiter.api.Test;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class NoticeAndErrorResponseTest {
    @Test
    void notice() {
        NoticeResponse decoded = assertRoundTrip(NoticeResponse.notice("00000", "hello"),
                of('N', i32(35), 'S', "NOTICE", 0, 'V', "NOTICE", 0, 'C', "00000", 0, 'M', "hello", 0, 0),
                NoticeResponse::decode);
        assertThat(decoded.severity()).isEqualTo("NOTICE");
        assertThat(decoded.sqlState()).isEqualTo("00000");
        assertThat(decoded.message()).isEqualTo("hello");
    }

    @Test
    void warning() {
        assertRoundTrip(NoticeResponse.warning("01000", "careful"),
                of('N', i32(39), 'S', "WARNING", 0, 'V', "WARNING", 0, 'C', "01000", 0, 'M', "careful", 0, 0),
                NoticeResponse::decode);
    }

    @Test
    void fatalError() {
        ErrorResponse decoded = assertRoundTrip(ErrorResponse.fatal("08P01", "bad"),
                of('E', i32(31), 'S', "FATAL", 0, 'V', "FATAL", 0, 'C', "08P01", 0, 'M', "bad", 0, 0),
                ErrorResponse::decode);
        assertThat(decoded.isFatal()).isTrue();
        assertThat(decoded).isNotEqualTo(new NoticeResponse(decoded.fields()));
    }

    @Test
    void keepsUnknownFieldsInOrder() {
        byte[] body = of('S', "ERREUR", 0, 'C', "42601", 0, 'M', "syntax error", 0, 'P', "8", 0, 'R', "scanner_yyerror", 0, 0);
        ErrorResponse decoded = decode(ErrorResponse::decode, body);
        assertThat(decoded.severity()).isEqualTo("ERREUR");
        assertThat(decoded.fields().get(Fields.POSITION)).isEqualTo("8");
        assertEncodes(decoded, of('E', i32(4 + body.length), body));
    }

    @Test
    void malformed() {
        byte[] body = of('S', "NOTICE", 0, 'M', "hi", 0, 0);
        assertTruncationsFail(NoticeResponse::decode, body);
        assertTrailingByteFails(NoticeResponse::decode, body);
        assertTruncationsFail(ErrorResponse::decode, body);
        assertTrailingByteFails(ErrorResponse::decode, body);
    }
}
