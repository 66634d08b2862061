// Stand-in for a student's client in Java (the handout's listing 1, as the handout's
// netstat -nb shows a java.exe client): sends each line typed, closes after "Fin".
// Usage: java Client PORT
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

public class Client {
    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 9500;
        System.out.println("Console Client");
        Socket socket = new Socket("127.0.0.1", port);
        System.out.println("Connecte depuis " + socket.getLocalPort());
        OutputStream out = socket.getOutputStream();
        BufferedReader lignes = new BufferedReader(
            new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String message = "";
        while (!message.equals("Fin")) {
            String ligne = lignes.readLine();
            if (ligne == null) {
                break;
            }
            message = ligne;
            out.write(message.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
        socket.close();
    }
}
