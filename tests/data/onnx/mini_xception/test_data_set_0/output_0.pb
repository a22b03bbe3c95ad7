
Boutput_0J(OÓ<?]Æ=Fòy=g×ÿ<ZG^>¡¤ñ=Ójª=:i+=N8_<KÁ£>