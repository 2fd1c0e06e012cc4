package io.pgrelay.testkit;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A link forwards, falls silent when cut (open connections and new ones), and forwards again when restored. */
class NetworkLinkTest {

    @Test
    void forwardsThenFallsSilentThenForwardsAgain() throws Exception {
        try (ServerSocket echo = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
             NetworkLink link = NetworkLink.to("127.0.0.1", echo.getLocalPort())) {
            Thread server = new Thread(() -> echoLoop(echo));
            server.setDaemon(true);
            server.start();

            try (Socket before = connect(link)) {
                assertThat(roundTrip(before, 'a')).isEqualTo('a');
                link.cut();
                before.getOutputStream().write('b');
                assertThatThrownBy(() -> before.getInputStream().read())
                        .as("an open connection carries nothing during a cut")
                        .isInstanceOf(SocketTimeoutException.class);
                try (Socket during = connect(link)) {
                    during.getOutputStream().write('c');
                    assertThatThrownBy(() -> during.getInputStream().read())
                            .as("a new connection is accepted but never answered")
                            .isInstanceOf(SocketTimeoutException.class);
                }
                link.restore();
                assertThat(readOrEnd(before)).as("restore ends the connections held during the cut").isEqualTo(-1);
            }
            try (Socket after = connect(link)) {
                assertThat(roundTrip(after, 'd')).isEqualTo('d');
            }
        }
    }

    private static Socket connect(NetworkLink link) throws IOException {
        Socket socket = new Socket("127.0.0.1", link.port());
        socket.setSoTimeout(500);
        return socket;
    }

    private static int roundTrip(Socket socket, char c) throws IOException {
        socket.getOutputStream().write(c);
        return socket.getInputStream().read();
    }

    private static int readOrEnd(Socket socket) {
        try {
            socket.setSoTimeout(2_000);
            return socket.getInputStream().read();
        } catch (IOException e) {
            return -1; // reset: ended too
        }
    }

    private static void echoLoop(ServerSocket echo) {
        while (!echo.isClosed()) {
            try {
                Socket s = echo.accept();
                Thread t = new Thread(() -> {
                    try (s; InputStream in = s.getInputStream()) {
                        int b;
                        while ((b = in.read()) >= 0) {
                            s.getOutputStream().write(b);
                        }
                    } catch (IOException ignored) {
                        // closed
                    }
                });
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }
}
